package detect

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	pigo "github.com/esimov/pigo/core"
	xdraw "golang.org/x/image/draw"

	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/weights"
)

// benchPhoto returns a fixture scaled to 640x480 (the astronaut portrait,
// 512x512, stretched) as *image.RGBA and as *image.YCbCr-like JPEG output is
// not needed: RGBA is what most decoders hand over after conversion.
func benchPhoto(b testing.TB) *image.RGBA {
	b.Helper()
	src, err := decodeFile(sharedtest.Path(b, "fixtures", "obama_biden_two_faces.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	// 1126x661 → 640x376 keeps the aspect; centre it vertically on grey.
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
	xdraw.CatmullRom.Scale(dst, image.Rect(0, 52, 640, 428), src, src.Bounds(), xdraw.Over, nil)
	return dst
}

func BenchmarkDetect(b *testing.B) {
	img := benchPhoto(b)
	d, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	if faces, _ := d.Detect(img); len(faces) != 2 {
		b.Fatalf("benchmark photo: %d faces, want 2", len(faces))
	}
	b.Run("detect+landmarks/640x480", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Detect(img); err != nil {
				b.Fatal(err)
			}
		}
	})
	cascade, err := New(&Options{Landmarks: LandmarksCascade})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("detect+landmarks/640x480/LandmarksCascade", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cascade.Detect(img); err != nil {
				b.Fatal(err)
			}
		}
	})
	mirror, err := New(&Options{Landmarks: LandmarksCascade, MirrorLandmarks: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("detect+landmarks/640x480/LandmarksCascade+MirrorLandmarks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mirror.Detect(img); err != nil {
				b.Fatal(err)
			}
		}
	})
	g, _, _ := toGray(img, 1024)
	minSize := 40 // 480/12
	p, err := pigo.NewPigo().Unpack(weights.FaceFinder())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scan/pigo-RunCascade", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.RunCascade(pigoParams(&g, minSize, 478, 0.1, 1.1), 0)
		}
	})
	b.Run("scan/own", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.face.scan(&g, minSize, 478, 0.1, 1.1)
		}
	})
	b.Run("landmarks", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.landmarks(&g, nil, 200, 200, 120)
		}
	})
}

func BenchmarkGray(b *testing.B) {
	img := benchPhoto(b)
	b.Run("own/RGBA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			toGray(img, 1024)
		}
	})
	b.Run("pigo-baseline/RGBA", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pigo.RgbToGrayscale(img)
		}
	})
}

func pigoParams(g *grayImage, minSize, maxSize int, shift, scale float64) pigo.CascadeParams {
	return pigo.CascadeParams{
		MinSize: minSize, MaxSize: maxSize, ShiftFactor: shift, ScaleFactor: scale,
		ImageParams: pigo.ImageParams{Pixels: g.Pix, Rows: g.H, Cols: g.W, Dim: g.W},
	}
}
