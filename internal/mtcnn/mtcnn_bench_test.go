package mtcnn

import (
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"testing"

	pigo "github.com/esimov/pigo/core"
	xdraw "golang.org/x/image/draw"

	"github.com/facematch/facematch/weights"
)

// selfie is the 640x480 one-face photo of detect's BenchmarkDetectSelfie:
// the project's astronaut portrait scaled to 480x480 and centred on grey.
func selfie(b testing.TB) *image.RGBA {
	b.Helper()
	fh, err := os.Open(filepath.Join("..", "..", "testdata", "astronaut.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	src, _, err := image.Decode(fh)
	if err != nil {
		b.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
	xdraw.CatmullRom.Scale(dst, image.Rect(80, 0, 560, 480), src, src.Bounds(), xdraw.Over, nil)
	return dst
}

// BenchmarkPropose measures Propose on a 640x480 one-face photo against
// pigo's RunCascade at MinSizes 20 and 40 (detect's speed baseline) in the
// same run; run it on one core (-cpu 1) and quote the ratio. Besides wall
// time it reports cpu-ns/op, the process's CPU time per operation, which a
// machine loaded by other jobs inflates less.
func BenchmarkPropose(b *testing.B) {
	img := selfie(b)
	d, err := New()
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts *Options
	}{
		{"MinFace20", nil},
		{"MinFace40", &Options{MinFaceSize: 40}},
		{"MinFace40/Overhang0.25", &Options{MinFaceSize: 40, Overhang: 0.25}},
	} {
		b.Run("propose/640x480/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := d.Propose(img, c.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	p, err := pigo.NewPigo().Unpack(weights.FaceFinder())
	if err != nil {
		b.Fatal(err)
	}
	gray := pigo.RgbToGrayscale(img)
	for _, minSize := range []int{20, 40} {
		b.Run("baseline/pigo-RunCascade-MinSize"+map[int]string{20: "20", 40: "40"}[minSize], func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				p.RunCascade(pigo.CascadeParams{MinSize: minSize, MaxSize: 478, ShiftFactor: 0.1, ScaleFactor: 1.1,
					ImageParams: pigo.ImageParams{Pixels: gray, Rows: 480, Cols: 640, Dim: 640}}, 0)
			}
		})
	}
}

// reportCPU starts measuring the process's CPU time; the function it
// returns reports it per operation.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		end, ok2 := processCPU()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64((end-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}
