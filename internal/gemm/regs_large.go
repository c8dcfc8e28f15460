//go:build !(amd64 || 386 || arm)

package gemm

// smallRegs selects 2×4 register blocks in the portable kernel; targets with
// 32 floating-point registers (arm64, ppc64, riscv64, …) use 4×4 blocks.
const smallRegs = false
