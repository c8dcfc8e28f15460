package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRun runs the test graph (every op) through Run, RunHWC and, as
// the same-run baseline, the float64 Reference evaluator.
func BenchmarkRun(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	in := Shape{C: 3, H: 56, W: 56}
	g := testGraph(r, in)
	net, err := Compile(g, &CompileOptions{Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	x := randSlice(r, in.Len(), 1)
	b.Run("Run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := net.Run(x); err != nil {
				b.Fatal(err)
			}
		}
	})
	dst := make([][]float32, len(g.Outputs))
	for i, s := range net.Outputs() {
		dst[i] = make([]float32, s.Len())
	}
	b.Run("RunHWC", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := net.RunHWC(dst, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Reference", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.Reference(x); err != nil {
				b.Fatal(err)
			}
		}
	})
}
