//go:build !purego

package gemm

// NEON kernels in gemm_arm64.s (Advanced SIMD is mandatory on arm64). The Go
// wrappers check every bound the assembly relies on; the bias/PReLU epilogue
// runs in Go on the finished tile.

//go:noescape
func kernel4x16(k int, a0, a1, a2, a3, b, c *float32, ldc int)

//go:noescape
func rowFMA(dst, src, w *float32, c, npix, step int)

// hasAsm: Advanced SIMD is part of every arm64 CPU.
const hasAsm = true

const asmName = "neon"

func kernel(k int, rows *[mr][]float32, b, c []float32, ldc int, bias, slope []float32, mode int) {
	if !useAsm || k == 0 {
		kernelGo(k, rows, b, c, ldc, bias, slope, mode)
		return
	}
	a0, a1, a2, a3 := rows[0][:k], rows[1][:k], rows[2][:k], rows[3][:k]
	_ = b[k*nr-1]
	_ = c[3*ldc+nr-1]
	kernel4x16(k, &a0[0], &a1[0], &a2[0], &a3[0], &b[0], &c[0], ldc)
	if mode == 0 {
		slope = nil
	}
	for r := 0; r < mr; r++ {
		vecBiasSlopeGo(c[r*ldc:r*ldc+nr], bias, slope, mode)
	}
}

// rowFMAs computes dst[p*c+j] += src[p*step+j]·w[j] for every pixel p of
// dst (len(dst)/c of them) and channel j < c.
func rowFMAs(dst, src, w []float32, c, step int) {
	npix := len(dst) / c
	if npix == 0 {
		return
	}
	w = w[:c]
	_ = src[(npix-1)*step+c-1]
	if useAsm && c%4 == 0 {
		rowFMA(&dst[0], &src[0], &w[0], c, npix, step)
		return
	}
	rowFMAsGo(dst, src, w, c, step)
}

func vecBiasSlope(dst, bias, slope []float32, mode int) { vecBiasSlopeGo(dst, bias, slope, mode) }
