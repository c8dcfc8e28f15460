package embed

// Float32 matrix multiply used by the convolution ops.
//
// C[m][n] = Σ_k A[m][k]·B[k][n], with A row-major (stride lda) and B packed
// once at load time into column panels of nr columns: panel p holds, for each
// k, the nr values B[k][p·nr … p·nr+nr-1] (zero padded past n). The inner
// kernel computes a block of mr rows × nr columns with all accumulators in
// registers; the loop order (row block outer, panel inner) keeps the mr rows
// of A in L1 while the packed weights stream from L2.
//
// The summation order over k is fixed (k ascending), so results are
// deterministic for a given kernel. Assembly kernels run on amd64 with
// AVX2+FMA (gemm_amd64.s) and on arm64 with NEON (gemm_arm64.s); elsewhere,
// and when useAsm is off, the pure-Go kernel below runs (2×4 or 4×4 register
// blocks depending on the target's register count, see regs_*.go).

const (
	mr = 4  // rows per micro-kernel block
	nr = 16 // columns per packed panel
)

// packB packs w, which holds n rows of k values (TFLite's [out][kh][kw][in]
// weight layout: row j is column j of B), into nr-wide panels.
func packB(w []float32, n, k int) []float32 {
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

// gemmScratch holds the per-worker buffers used for ragged edges.
type gemmScratch struct {
	a [mr][]float32    // zero-padded copies of the last rows when m%mr != 0
	c [mr * nr]float32 // tile for the last panel when n%nr != 0 or short rows
}

// gemm computes c[i*ldc+j] = Σ_kk a[i*lda+kk]·B[kk][j] for i < m, j < n.
//
// The epilogue adds bias[j] and, for mode 1, applies the PReLU slope[j]; bias
// and slope are padded to a multiple of nr.
func gemm(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, bias, slope []float32, mode int, s *gemmScratch) {
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
// which is exact for the model's relu(x) + c·(x-|x|) with slope = 2c and for
// RELU with slope 0.
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
