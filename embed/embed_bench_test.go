package embed

import (
	"image"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/facematch/facematch/internal/gemm"
	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/tflite"
	"github.com/facematch/facematch/weights"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

func benchImage() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, InputSize, InputSize))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// BenchmarkEmbed measures one embedding without and with flip TTA, and
// GOMAXPROCS goroutines sharing one Embedder.
func BenchmarkEmbed(b *testing.B) {
	img := benchImage()
	plain, err := New(&Options{DisableFlip: true, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	flip, err := New(&Options{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, Dim)
	b.Run("single", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := plain.EmbedInto(dst, img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("flip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := flip.EmbedInto(dst, img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		par, err := New(&Options{DisableFlip: true})
		if err != nil {
			b.Fatal(err)
		}
		// Build every worker before timing (they are created on first use).
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = par.EmbedInto(make([]float32, Dim), img)
			}()
		}
		wg.Wait()
		b.ReportAllocs()
		b.ResetTimer()
		b.SetParallelism(1) // GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			d := make([]float32, Dim)
			for pb.Next() {
				if err := par.EmbedInto(d, img); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "goroutines")
	})
}

// BenchmarkSgemmBaseline runs the same matrix products as one forward pass
// (every convolution as an im2col GEMM) through gonum's blas32.Sgemm, single
// threaded per call, for a machine-independent ratio against BenchmarkEmbed.
// It also times this package's GEMM on the same shapes.
func BenchmarkSgemmBaseline(b *testing.B) {
	g, err := tflite.Load(weights.MobileFaceNet())
	if err != nil {
		b.Fatal(err)
	}
	vs, err := g.Validate()
	if err != nil {
		b.Fatal(err)
	}
	type shape struct{ m, n, k int }
	var shapes []shape
	for i, n := range g.Nodes {
		in, out := vs[n.Inputs[0]], vs[i+1]
		if n.Op == nn.Conv && max(n.Groups, 1) == 1 {
			shapes = append(shapes, shape{out.H * out.W, out.C, n.Kernel[0] * n.Kernel[1] * in.C})
		}
	}
	maxA, maxB, maxC := 0, 0, 0
	for _, s := range shapes {
		maxA, maxB, maxC = max(maxA, s.m*s.k), max(maxB, s.k*s.n), max(maxC, s.m*s.n)
	}
	r := rand.New(rand.NewPCG(3, 4))
	A := make([]float32, maxA)
	B := make([]float32, maxB)
	C := make([]float32, maxC)
	for i := range A {
		A[i] = r.Float32() - 0.5
	}
	for i := range B {
		B[i] = r.Float32() - 0.5
	}
	b.Run("gonum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range shapes {
				blas32.Gemm(blas.NoTrans, blas.Trans, 1,
					blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: A[:s.m*s.k]},
					blas32.General{Rows: s.n, Cols: s.k, Stride: s.k, Data: B[:s.n*s.k]},
					0, blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: C[:s.m*s.n]})
			}
		}
	})
	zero := make([]float32, 1024)
	packed := make([][]float32, len(shapes))
	for i, s := range shapes {
		packed[i] = gemm.PackB(B[:s.n*s.k], s.n, s.k)
	}
	b.Run("kernel="+gemm.KernelName(), func(b *testing.B) {
		var g gemm.Scratch
		b.ReportAllocs()
		for b.Loop() {
			for i, s := range shapes {
				gemm.Mul(s.m, s.n, s.k, A, s.k, packed[i], C, s.n, zero, nil, &g)
			}
		}
	})
}
