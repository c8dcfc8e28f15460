package onet

import (
	"image"
	"testing"
)

func BenchmarkRun(b *testing.B) {
	n := newNet(b)
	img := image.NewYCbCr(image.Rect(0, 0, 250, 250), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 13 % 253)
	}
	for _, size := range []float64{48, 120} {
		b.Run(map[float64]string{48: "box48", 120: "box120"}[size], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n.Run(img, Box{X: 60, Y: 60, Size: size})
			}
		})
	}
	b.Run("forward", func(b *testing.B) {
		in := make([]float32, Input*Input*3)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := n.forward(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
