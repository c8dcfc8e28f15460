package liveness

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/facematch/facematch/embed"
)

// benchPatch is a deterministic 3x80x80 BGR input.
func benchPatch() []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]float32, 3*PatchSize*PatchSize)
	for i := range p {
		p[i] = float32(r.IntN(256))
	}
	return p
}

// BenchmarkNetworks runs each MiniFASNet and the ensemble on one patch, on
// one goroutine, next to the embedding network (MobileFaceNet, no flip, one
// worker) as the baseline of the same run: the target is both networks in
// ≤ 10 ms on one core (~82 M multiply-adds). Until the fast nn runtime is
// wired in (newNetwork), this measures the float64 reference evaluator.
func BenchmarkNetworks(b *testing.B) {
	c, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	patch := benchPatch()
	for i, m := range models {
		b.Run(m.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.logits(i, patch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("both", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range models {
				if _, err := c.logits(i, patch); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("baseline-embed", func(b *testing.B) {
		e, err := embed.New(&embed.Options{DisableFlip: true, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		crop := image.NewRGBA(image.Rect(0, 0, embed.InputSize, embed.InputSize))
		for i := range crop.Pix {
			crop.Pix[i] = uint8(i * 31)
		}
		dst := make([]float32, embed.Dim)
		b.ReportAllocs()
		for b.Loop() {
			if err := e.EmbedInto(dst, crop); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPatch is the crop and bilinear resize of one model's patch from
// a 640x480 image.
func BenchmarkPatch(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i)
	}
	x0, y0, x1, y1 := CropBox(640, 480, 250, 150, 150, 160, 2.7)
	b.ReportAllocs()
	for b.Loop() {
		_ = Patch(img, x0, y0, x1, y1)
	}
}
