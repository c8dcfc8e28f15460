package gemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

type shape struct{ m, n, k int }

// The im2col products of one forward pass of each network (m output pixels,
// n output channels, k = kh·kw·input channels).
var benchNets = []struct {
	name   string
	shapes []shape
}{
	{"mobilefacenet", []shape{ // package embed's model, 112x112 input
		{3136, 64, 27}, {3136, 64, 64}, {3136, 128, 64}, {784, 64, 128}, {784, 128, 64}, {784, 64, 128},
		{784, 128, 64}, {784, 64, 128}, {784, 128, 64}, {784, 64, 128}, {784, 128, 64}, {784, 64, 128},
		{784, 256, 64}, {196, 128, 256}, {196, 256, 128}, {196, 128, 256}, {196, 256, 128}, {196, 128, 256},
		{196, 256, 128}, {196, 128, 256}, {196, 256, 128}, {196, 128, 256}, {196, 256, 128}, {196, 128, 256},
		{196, 256, 128}, {196, 128, 256}, {196, 512, 128}, {49, 128, 512}, {49, 256, 128}, {49, 128, 256},
		{49, 256, 128}, {49, 128, 256}, {49, 512, 128}, {1, 512, 512}, {1, 192, 512},
	}},
	{"onet", []shape{ // internal/onet, 48x48 input: four convolutions, then the FC layers
		{2116, 32, 27}, {441, 64, 288}, {64, 64, 576}, {9, 128, 256}, {1, 256, 1152},
		{1, 2, 256}, {1, 4, 256}, {1, 10, 256},
	}},
}

// BenchmarkGemm times the matrix products of one forward pass of each
// network with the portable kernel, the assembly kernel (where there is
// one) and, for scale, gonum's blas32.Gemm (single-threaded per call, B
// transposed in place of packing).
func BenchmarkGemm(b *testing.B) {
	for _, net := range benchNets {
		maxA, maxB, maxC := 0, 0, 0
		for _, s := range net.shapes {
			maxA, maxB, maxC = max(maxA, s.m*s.k), max(maxB, s.k*s.n), max(maxC, s.m*s.n)
		}
		r := rand.New(rand.NewPCG(3, 4))
		A := randSlice(r, maxA)
		B := randSlice(r, maxB)
		C := make([]float32, maxC)
		zero := make([]float32, 1024)
		packed := make([][]float32, len(net.shapes))
		for i, s := range net.shapes {
			packed[i] = PackB(B[:s.n*s.k], s.n, s.k)
		}
		b.Run(net.name+"/gonum", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range net.shapes {
					blas32.Gemm(blas.NoTrans, blas.Trans, 1,
						blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: A[:s.m*s.k]},
						blas32.General{Rows: s.n, Cols: s.k, Stride: s.k, Data: B[:s.n*s.k]},
						0, blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: C[:s.m*s.n]})
				}
			}
		})
		asm := []bool{false}
		if hasAsm {
			asm = append(asm, true)
		}
		for _, on := range asm {
			restore := SetAsm(on)
			b.Run(net.name+"/kernel="+KernelName(), func(b *testing.B) {
				var g Scratch
				b.ReportAllocs()
				for b.Loop() {
					for i, s := range net.shapes {
						Mul(s.m, s.n, s.k, A, s.k, packed[i], C, s.n, zero, nil, &g)
					}
				}
			})
			restore()
		}
	}
}
