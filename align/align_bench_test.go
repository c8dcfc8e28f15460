package align

import (
	"image"
	"testing"

	"gonum.org/v1/gonum/spatial/r2"
)

func BenchmarkEstimate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Estimate(face, template); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCrop(b *testing.B) {
	lm := r2Shift(applyAll(similarity(-12, 0.55, 0, 0), template), 250, 150)
	src := pattern(image.Rect(0, 0, 640, 480))
	v := variants(src)
	for _, name := range []string{"YCbCr420", "RGBA", "NRGBA", "Gray", "generic"} {
		img := v[name]
		b.Run(name+"_640x480", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Crop(img, lm); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	_ = r2.Vec{}
}
