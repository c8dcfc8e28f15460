package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// kernels runs f once with the assembly kernels (where this machine has
// them) and once with the portable ones.
func kernels(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	names := []bool{true}
	if hasAsm {
		names = append(names, false)
	}
	for _, asm := range names {
		restore := SetAsm(asm)
		t.Run("kernel="+KernelName(), f)
		restore()
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

func padded(v []float32) []float32 {
	p := make([]float32, PadLen(len(v)))
	copy(p, v)
	return p
}

// naiveMul is the textbook triple loop in float64: the reference the
// kernels are held to.
func naiveMul(m, n, k int, a []float32, lda int, w []float32, bias, slope []float32) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for kk := range k {
				s += float64(a[i*lda+kk]) * float64(w[j*k+kk])
			}
			s += float64(bias[j])
			if slope != nil && s < 0 {
				s *= float64(slope[j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

// TestMul compares Mul, with the assembly and the portable kernels, against
// the float64 triple loop on ragged sizes (rows and columns that are not
// multiples of the tile), strides wider than the matrices, and the three
// epilogues. It also checks that nothing outside the m×n block of C is
// written, and that the two kernels agree closely with each other.
func TestMul(t *testing.T) {
	type size struct{ m, n, k int }
	sizes := []size{
		{1, 1, 1}, {4, 16, 8}, {7, 20, 27}, {49, 192, 512}, {13, 5, 3}, {3136, 64, 27},
		{1, 256, 1152}, {9, 128, 256}, {441, 64, 288}, {5, 33, 1}, {2, 2, 256},
	}
	results := map[string][]float32{}
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 1))
		var s Scratch
		for _, c := range sizes {
			lda, ldc := c.k+3, c.n+5
			a := randSlice(r, c.m*lda)
			w := randSlice(r, c.n*c.k)
			bias := randSlice(r, c.n)
			alpha := make([]float32, c.n)
			for i := range alpha {
				alpha[i] = r.Float32()
			}
			bp := PackB(w, c.n, c.k)
			for _, ep := range []struct {
				name  string
				slope []float32
			}{{"linear", nil}, {"prelu", alpha}, {"relu", make([]float32, c.n)}} {
				var sl []float32
				if ep.slope != nil {
					sl = padded(ep.slope)
				}
				out := make([]float32, c.m*ldc)
				const sentinel = 12345
				for i := range out {
					out[i] = sentinel
				}
				Mul(c.m, c.n, c.k, a, lda, bp, out, ldc, padded(bias), sl, &s)
				want := naiveMul(c.m, c.n, c.k, a, lda, w, bias, ep.slope)
				for i := range c.m {
					for j := range ldc {
						got := out[i*ldc+j]
						if j >= c.n {
							if got != sentinel {
								t.Fatalf("%+v %s: wrote c[%d][%d] past n", c, ep.name, i, j)
							}
							continue
						}
						if d := math.Abs(float64(got) - want[i*c.n+j]); d > 1e-6*float64(c.k)+1e-6 {
							t.Fatalf("%+v %s: c[%d][%d] = %v, want %v", c, ep.name, i, j, got, want[i*c.n+j])
						}
					}
				}
				key := fmt.Sprintf("%v %s", c, ep.name)
				if prev, ok := results[key]; ok {
					for i, v := range prev {
						if d := math.Abs(float64(v - out[i])); d > 1e-6*float64(c.k) {
							t.Fatalf("%+v %s: kernels disagree at %d: %v vs %v", c, ep.name, i, v, out[i])
						}
					}
				}
				results[key] = out
			}
		}
	})
}

// TestMulDeterministic checks that repeated products give the same bits,
// whatever the Scratch's history and the position of a row in its tile.
func TestMulDeterministic(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(2, 2))
		const m, n, k = 11, 40, 75
		a := randSlice(r, m*k)
		bp := PackB(randSlice(r, n*k), n, k)
		bias, slope := padded(randSlice(r, n)), padded(randSlice(r, n))
		var s1, s2 Scratch
		first := make([]float32, m*n)
		Mul(m, n, k, a, k, bp, first, n, bias, slope, &s1)
		for range 3 {
			again := make([]float32, m*n)
			Mul(m, n, k, a, k, bp, again, n, bias, slope, &s2)
			for i := range first {
				if math.Float32bits(first[i]) != math.Float32bits(again[i]) {
					t.Fatalf("element %d: %v then %v", i, first[i], again[i])
				}
			}
		}
		// Row 10 alone (a short block) must equal row 10 of the full product
		// (there it sits in a full tile with zero-padded neighbours).
		one := make([]float32, n)
		Mul(1, n, k, a[10*k:], k, bp, one, n, bias, slope, &s1)
		for j, v := range one {
			if math.Float32bits(v) != math.Float32bits(first[10*n+j]) {
				t.Fatalf("row 10 col %d: %v alone, %v in the block", j, v, first[10*n+j])
			}
		}
	})
}

// TestPackB checks the documented panel layout.
func TestPackB(t *testing.T) {
	const n, k = 20, 3
	w := make([]float32, n*k)
	for i := range w {
		w[i] = float32(i + 1)
	}
	bp := PackB(w, n, k)
	if len(bp) != PadLen(n)*k {
		t.Fatalf("len %d, want %d", len(bp), PadLen(n)*k)
	}
	for p := range PadLen(n) / NR {
		for kk := range k {
			for j := range NR {
				col := p*NR + j
				want := float32(0)
				if col < n {
					want = w[col*k+kk]
				}
				if got := bp[(p*k+kk)*NR+j]; got != want {
					t.Fatalf("panel %d k %d col %d: %v, want %v", p, kk, j, got, want)
				}
			}
		}
	}
}

// TestRowFMA compares RowFMA with a direct loop for channel counts that do
// and do not suit the vector kernels, and strides wider than c.
func TestRowFMA(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		for _, c := range []int{1, 3, 4, 8, 12, 16, 24, 64} {
			for _, step := range []int{c, 2 * c} {
				const npix = 7
				src := randSlice(r, (npix-1)*step+c)
				w := randSlice(r, c)
				dst := randSlice(r, npix*c)
				want := append([]float32(nil), dst...)
				for p := range npix {
					for j := range c {
						want[p*c+j] += src[p*step+j] * w[j]
					}
				}
				RowFMA(dst, src, w, c, step)
				for i := range dst {
					if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
						t.Fatalf("c=%d step=%d: dst[%d] = %v, want %v", c, step, i, dst[i], want[i])
					}
				}
			}
		}
	})
}

// TestEpilogue compares Epilogue with the formula on lengths around the
// vector width.
func TestEpilogue(t *testing.T) {
	kernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(4, 4))
		for _, n := range []int{0, 1, 7, 8, 9, 16, 31, 64} {
			bias, slope := randSlice(r, n), randSlice(r, n)
			for _, sl := range [][]float32{nil, slope} {
				dst := randSlice(r, n)
				want := append([]float32(nil), dst...)
				for i := range want {
					v := want[i] + bias[i]
					if sl != nil && v < 0 {
						v *= sl[i]
					}
					want[i] = v
				}
				Epilogue(dst, bias, sl)
				for i := range dst {
					if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
						t.Fatalf("n=%d prelu=%v: dst[%d] = %v, want %v", n, sl != nil, i, dst[i], want[i])
					}
				}
			}
		}
	})
}

func TestSetAsm(t *testing.T) {
	before := KernelName()
	restore := SetAsm(false)
	if KernelName() != "go" {
		t.Errorf("SetAsm(false): kernel %q", KernelName())
	}
	inner := SetAsm(true)
	if want := map[bool]string{true: asmName, false: "go"}[hasAsm]; KernelName() != want {
		t.Errorf("SetAsm(true): kernel %q, want %q", KernelName(), want)
	}
	inner()
	if KernelName() != "go" {
		t.Errorf("inner restore: kernel %q", KernelName())
	}
	restore()
	if KernelName() != before {
		t.Errorf("restore: kernel %q, want %q", KernelName(), before)
	}
}
