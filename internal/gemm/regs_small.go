//go:build amd64 || 386 || arm

package gemm

// smallRegs selects 2×4 register blocks in the portable kernel: these
// targets have 16 (or fewer) floating-point registers.
const smallRegs = true
