package compare

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkCompare(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 192)
	y := make([]float32, 192)
	for i := range x {
		x[i], y[i] = r.Float32(), r.Float32()
	}
	b.Run("Cosine192", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Cosine(x, y)
		}
	})
	// Similarity is what Matcher.Compare scores with: the cosine after the
	// bundled normalisation (two centred, projected copies on the stack).
	b.Run("Similarity192", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Similarity(x, y)
		}
	})
	b.Run("Percentage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = DefaultCalibration().Percentage(0.5)
		}
	})
}
