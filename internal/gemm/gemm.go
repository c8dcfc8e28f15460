package gemm

// Tile sizes. Callers need NR to pad bias and slope vectors.
const (
	// MR is the number of rows of A (and C) one micro-kernel call computes.
	MR = 4
	// NR is the width of a packed panel of B, the number of columns of C one
	// micro-kernel call computes, and the multiple that bias and slope
	// vectors are padded to.
	NR = 16
)

const (
	mr = MR
	nr = NR
)

// PadLen returns n rounded up to a multiple of NR: the length Mul needs for
// its bias and slope vectors when C has n columns.
func PadLen(n int) int { return (n + nr - 1) / nr * nr }

// PackB packs the weights w, which hold n rows of k values, into the panel
// layout Mul reads. Row j of w is column j of B, so w is Bᵀ in row-major
// order — TFLite's [out][kh][kw][in] CONV_2D filters and [units][depth]
// FULLY_CONNECTED weights, with k = kh·kw·in or depth. The result holds
// PadLen(n)·k values: panel p stores, for each kk < k, the NR values
// B[kk][p·NR … p·NR+NR-1], zero past column n.
func PackB(w []float32, n, k int) []float32 {
	panels := (n + nr - 1) / nr
	bp := make([]float32, panels*k*nr)
	for p := 0; p < panels; p++ {
		dst := bp[p*k*nr : (p+1)*k*nr]
		for j := 0; j < nr; j++ {
			col := p*nr + j
			if col >= n {
				break
			}
			row := w[col*k : col*k+k]
			for kk, v := range row {
				dst[kk*nr+j] = v
			}
		}
	}
	return bp
}

// Scratch holds the buffers Mul needs for ragged edges (m not a multiple of
// MR, n not a multiple of NR). The zero value is ready to use; buffers grow
// on first need and are reused, so keep one Scratch per goroutine (in a
// worker or a sync.Pool) rather than one per call. A Scratch must not be
// used by two calls at the same time.
type Scratch struct {
	a [mr][]float32    // zero-padded copies of the last rows when m%mr != 0
	c [mr * nr]float32 // tile for the last panel when n%nr != 0 or short rows
}

// Mul computes, for i < m and j < n,
//
//	c[i·ldc+j] = act(Σ_kk a[i·lda+kk]·B[kk][j] + bias[j])
//
// where B is k×n, packed by PackB(w, n, k) into bp, and act is the identity
// when slope is nil and PReLU, max(x,0) + slope[j]·min(x,0), otherwise (a
// zero slope gives RELU). bias, and slope when non-nil, must hold at least
// PadLen(n) values; the padding is never written to c.
//
// Rows of A are read at stride lda (lda ≥ k) and rows of C written at stride
// ldc (ldc ≥ n); nothing past column n of C is touched. The sum over kk runs
// in ascending order in every kernel, so the result for a given kernel (see
// KernelName) is the same on every call.
func Mul(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, bias, slope []float32, s *Scratch) {
	mode := 0
	if slope != nil {
		mode = 1
	}
	panels := (n + nr - 1) / nr
	full := n / nr // panels that are entirely inside n
	var rows [mr][]float32
	for i0 := 0; i0 < m; i0 += mr {
		short := m - i0
		if short >= mr {
			for r := 0; r < mr; r++ {
				rows[r] = a[(i0+r)*lda : (i0+r)*lda+k]
			}
		} else {
			for r := 0; r < mr; r++ {
				if cap(s.a[r]) < k {
					s.a[r] = make([]float32, k)
				}
				buf := s.a[r][:k]
				if r < short {
					copy(buf, a[(i0+r)*lda:(i0+r)*lda+k])
				} else {
					clear(buf)
				}
				rows[r] = buf
			}
		}
		for p := 0; p < panels; p++ {
			b := bp[p*k*nr : (p+1)*k*nr]
			bi := bias[p*nr : p*nr+nr]
			var sl []float32
			if mode != 0 {
				sl = slope[p*nr : p*nr+nr]
			}
			if p < full && short >= mr {
				kernel(k, &rows, b, c[i0*ldc+p*nr:], ldc, bi, sl, mode)
				continue
			}
			kernel(k, &rows, b, s.c[:], nr, bi, sl, mode)
			for r := 0; r < mr && r < short; r++ {
				w := min(nr, n-p*nr)
				copy(c[(i0+r)*ldc+p*nr:(i0+r)*ldc+p*nr+w], s.c[r*nr:r*nr+w])
			}
		}
	}
}

// RowFMA computes dst[p·c+j] += src[p·step+j]·w[j] for every pixel p of dst
// (len(dst)/c of them) and channel j < c: one filter tap of a depthwise
// convolution over a row of output pixels, reading every step-th value of
// the input row. It is vectorised alongside Mul's kernels.
func RowFMA(dst, src, w []float32, c, step int) { rowFMAs(dst, src, w, c, step) }

// Epilogue applies Mul's epilogue to dst in place: dst[i] += bias[i], then,
// when slope is non-nil, max(x,0) + slope[i]·min(x,0). bias and slope need
// len(dst) values. This is for results that do not come out of Mul
// (depthwise convolutions, element-wise adds).
func Epilogue(dst, bias, slope []float32) {
	mode := 0
	if slope != nil {
		mode = 1
	}
	vecBiasSlope(dst, bias, slope, mode)
}

// useAsm selects the assembly kernels. It is a variable only so that this
// package's tests can compare the kernels in one process; elsewhere the
// purego build tag selects the portable kernels.
var useAsm = hasAsm

// KernelName names the micro-kernel Mul uses: "avx2" (amd64 with AVX2 and
// FMA), "neon" (arm64) or "go" (the portable kernel: other platforms, CPUs
// without AVX2, and builds with the purego tag).
func KernelName() string {
	if useAsm {
		return asmName
	}
	return "go"
}

// kernelGo computes the mr×nr tile c[r*ldc+j] = epi(Σ rows[r][kk]·b[kk*nr+j]
// + bias[j]) in four 4×4 register blocks, where epi is the identity (mode 0)
// or PReLU max(x,0) + slope[j]·min(x,0) (mode 1).
func kernelGo(k int, rows *[mr][]float32, b, c []float32, ldc int, bias, slope []float32, mode int) {
	a0 := rows[0][:k]
	a1 := rows[1][:len(a0)]
	a2 := rows[2][:len(a0)]
	a3 := rows[3][:len(a0)]
	b = b[:len(a0)*nr]
	_ = c[3*ldc+nr-1]
	bias = bias[:nr]
	if mode != 0 {
		slope = slope[:nr]
	}
	if smallRegs {
		block2x4(a0, a1, b, c, ldc)
		block2x4(a2, a3, b, c[2*ldc:], ldc)
	} else {
		block4x4(a0, a1, a2, a3, b, c, ldc)
	}
	for r := 0; r < mr; r++ {
		row := c[r*ldc : r*ldc+nr]
		var sl []float32
		if mode != 0 {
			sl = slope
		}
		vecBiasSlopeGo(row, bias, sl, mode)
	}
}

// rowFMAsGo computes dst[p*c+j] += src[p*step+j]·w[j] for every pixel p of
// dst and channel j < c.
func rowFMAsGo(dst, src, w []float32, c, step int) {
	w = w[:c]
	for p := 0; p+c <= len(dst); p += c {
		d := dst[p : p+c]
		s := src[p/c*step:]
		s = s[:len(d)]
		for j, v := range s {
			d[j] += v * w[j]
		}
	}
}

// vecBiasSlopeGo adds bias and, for mode 1, applies max(x,0) + slope·min(x,0),
// which is exact for the PReLU patterns TFLite exports spell with RELU, NEG,
// ABS, SUB, MUL and ADD (see the callers) and for RELU with slope 0.
func vecBiasSlopeGo(dst, bias, slope []float32, mode int) {
	bias = bias[:len(dst)]
	if mode == 0 {
		for i, b := range bias {
			dst[i] += b
		}
		return
	}
	slope = slope[:len(dst)]
	for i, b := range bias {
		v := dst[i] + b
		dst[i] = max(v, 0) + slope[i]*min(v, 0)
	}
}

// block4x4 computes the four rows of a tile in 4×4 register blocks (16
// accumulators: right for CPUs with 32 floating-point registers).
func block4x4(a0, a1, a2, a3, b, c []float32, ldc int) {
	a1 = a1[:len(a0)]
	a2 = a2[:len(a0)]
	a3 = a3[:len(a0)]
	b = b[:len(a0)*nr]
	_ = c[3*ldc+nr-1]
	for j := 0; j < nr; j += 4 {
		var c00, c01, c02, c03 float32
		var c10, c11, c12, c13 float32
		var c20, c21, c22, c23 float32
		var c30, c31, c32, c33 float32
		bj := b[j:]
		for kk, x0 := range a0 {
			bb := bj[kk*nr : kk*nr+4 : kk*nr+4]
			b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
			x1, x2, x3 := a1[kk], a2[kk], a3[kk]
			c00 += x0 * b0
			c01 += x0 * b1
			c02 += x0 * b2
			c03 += x0 * b3
			c10 += x1 * b0
			c11 += x1 * b1
			c12 += x1 * b2
			c13 += x1 * b3
			c20 += x2 * b0
			c21 += x2 * b1
			c22 += x2 * b2
			c23 += x2 * b3
			c30 += x3 * b0
			c31 += x3 * b1
			c32 += x3 * b2
			c33 += x3 * b3
		}
		r := c[j : j+4 : j+4]
		r[0], r[1], r[2], r[3] = c00, c01, c02, c03
		r = c[ldc+j : ldc+j+4 : ldc+j+4]
		r[0], r[1], r[2], r[3] = c10, c11, c12, c13
		r = c[2*ldc+j : 2*ldc+j+4 : 2*ldc+j+4]
		r[0], r[1], r[2], r[3] = c20, c21, c22, c23
		r = c[3*ldc+j : 3*ldc+j+4 : 3*ldc+j+4]
		r[0], r[1], r[2], r[3] = c30, c31, c32, c33
	}
}

// block2x4 computes two rows of a tile, c[0:nr] and c[ldc:ldc+nr], in 2×4
// register blocks (8 accumulators, which fit the 16 floating-point registers
// of amd64 and 32-bit arm without spilling).
func block2x4(a0, a1, b, c []float32, ldc int) {
	a1 = a1[:len(a0)]
	b = b[:len(a0)*nr]
	_ = c[ldc+nr-1]
	for j := 0; j < nr; j += 4 {
		var c00, c01, c02, c03 float32
		var c10, c11, c12, c13 float32
		bj := b[j:]
		for kk, x0 := range a0 {
			bb := bj[kk*nr : kk*nr+4 : kk*nr+4]
			b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
			x1 := a1[kk]
			c00 += x0 * b0
			c01 += x0 * b1
			c02 += x0 * b2
			c03 += x0 * b3
			c10 += x1 * b0
			c11 += x1 * b1
			c12 += x1 * b2
			c13 += x1 * b3
		}
		r := c[j : j+4 : j+4]
		r[0], r[1], r[2], r[3] = c00, c01, c02, c03
		r = c[ldc+j : ldc+j+4 : ldc+j+4]
		r[0], r[1], r[2], r[3] = c10, c11, c12, c13
	}
}
