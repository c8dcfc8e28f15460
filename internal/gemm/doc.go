// Package gemm is the float32 matrix multiply behind the project's neural
// network runtime (package internal/nn): a small GEMM with
// the weights packed once at load time, a register-blocked micro-kernel in
// assembly (AVX2+FMA on amd64, NEON on arm64) or portable Go, and a fused
// bias + PReLU epilogue.
//
// # The product
//
// Mul computes C = act(A·B + bias) where
//
//   - A is m×k, row-major with row stride lda: for a convolution, one row per
//     output pixel holding the input values under the filter (im2col); for a
//     fully connected layer, the input vector (m = 1);
//   - B is k×n, the weights, given to PackB as n rows of k values — exactly
//     TFLite's [out][kh][kw][in] filter and [units][depth] weight layouts —
//     and packed once into panels of NR columns;
//   - C is m×n, row-major with row stride ldc: NHWC output pixels;
//   - act is the identity or, with a slope vector, PReLU
//     max(x,0) + slope·min(x,0) (RELU with a zero slope).
//
// A convolution layer therefore looks like:
//
//	// at load time
//	bp := gemm.PackB(filter, outC, kh*kw*inC)
//	bias := make([]float32, gemm.PadLen(outC)) // zero padded
//	copy(bias, b)
//
//	// per call, with a Scratch owned by the calling goroutine
//	im2col(x, col)                              // m rows of k values
//	gemm.Mul(m, outC, k, col, k, bp, y, outC, bias, nil, &scratch)
//
// # How it is computed
//
// The micro-kernel computes an MR×NR (4×16) tile of C with all 64 sums in
// registers, streaming k values of four A rows and k·NR packed weights.
// Mul walks row blocks of A outer and panels of B inner, so the four A rows
// stay in L1 while the panels stream from L2. Ragged edges (m not a multiple
// of MR, n not a multiple of NR) go through zero-padded copies in a Scratch,
// so the kernels only ever see full tiles.
//
// Every kernel sums over k in ascending order with one accumulator per
// output, so a given kernel gives bit-identical results on every call and
// for every tile position; the assembly kernels use fused multiply-adds and
// may differ from the portable kernel in the last bits. KernelName reports
// the kernel in use. The purego build tag selects the portable kernel (the
// one 32-bit ARM, other platforms and CPUs without AVX2 run) on any
// machine: `go test -tags purego` tests it; this package's own tests compare
// the kernels in one run.
//
// The portable kernel uses 4×4 register blocks on targets with 32
// floating-point registers and 2×4 blocks where there are only 16
// (amd64, 386, arm; see regs_*.go), which avoids spilling accumulators.
//
// RowFMA and Epilogue are the two vector helpers of depthwise convolutions
// and element-wise layers that share the kernels' assembly files.
//
// # Speed
//
// BenchmarkGemm times the products of one MobileFaceNet and one ONet
// forward pass with the kernel in use and with gonum's blas32.Gemm as a
// same-run baseline; the assembly kernels are several times faster than
// gonum, the portable kernel several times slower.
package gemm
