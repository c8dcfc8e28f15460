//go:build !purego

package gemm

import "golang.org/x/sys/cpu"

// Assembly kernels in gemm_amd64.s (AVX2 + FMA). The Go wrappers below check
// every bound the assembly relies on, and fall back to the pure-Go kernels
// when the CPU lacks AVX2 or FMA.

//go:noescape
func kernel4x16(k int, a0, a1, a2, a3, b, c *float32, ldc int, bias, slope *float32, mode int)

//go:noescape
func rowFMA(dst, src, w *float32, c, npix, step int)

//go:noescape
func biasSlopeVec(dst, bias, slope *float32, n, mode int)

// hasAsm reports whether this CPU runs the assembly kernels.
var hasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

const asmName = "avx2"

func kernel(k int, rows *[mr][]float32, b, c []float32, ldc int, bias, slope []float32, mode int) {
	if !useAsm || k == 0 {
		kernelGo(k, rows, b, c, ldc, bias, slope, mode)
		return
	}
	a0, a1, a2, a3 := rows[0][:k], rows[1][:k], rows[2][:k], rows[3][:k]
	_ = b[k*nr-1]
	_ = c[3*ldc+nr-1]
	bias = bias[:nr]
	sp := &bias[0] // any valid pointer when mode is 0
	if mode != 0 {
		slope = slope[:nr]
		sp = &slope[0]
	}
	kernel4x16(k, &a0[0], &a1[0], &a2[0], &a3[0], &b[0], &c[0], ldc, &bias[0], sp, mode)
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
	if useAsm && c%8 == 0 {
		rowFMA(&dst[0], &src[0], &w[0], c, npix, step)
		return
	}
	rowFMAsGo(dst, src, w, c, step)
}

// vecBiasSlope adds bias and, for mode 1, applies the PReLU slope.
func vecBiasSlope(dst, bias, slope []float32, mode int) {
	n := len(dst)
	bias = bias[:n]
	v := n &^ 7
	if useAsm && v > 0 {
		sp := &bias[0]
		if mode != 0 {
			slope = slope[:n]
			sp = &slope[0]
		}
		biasSlopeVec(&dst[0], &bias[0], sp, v, mode)
	} else {
		v = 0
	}
	if mode != 0 {
		slope = slope[v:]
	}
	vecBiasSlopeGo(dst[v:], bias[v:], slope, mode)
}
