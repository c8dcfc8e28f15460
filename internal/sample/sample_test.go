package sample

import (
	"image"
	"image/color"
	"image/color/palette"
	"math/rand/v2"
	"testing"
)

// testImages returns one image of each type Source reads specially (and a
// paletted one for the generic path), with the same odd bounds.
func testImages() []image.Image {
	r := rand.New(rand.NewPCG(1, 2))
	b := image.Rect(-3, 5, 14, 16)
	var imgs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422} {
		y := image.NewYCbCr(b, ratio)
		for i := range y.Y {
			y.Y[i] = uint8(r.IntN(256))
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = uint8(r.IntN(256)), uint8(r.IntN(256))
		}
		imgs = append(imgs, y)
	}
	// A YCbCr image at the origin takes the shift-based chroma path.
	y0 := image.NewYCbCr(image.Rect(0, 0, 9, 7), image.YCbCrSubsampleRatio420)
	for i := range y0.Y {
		y0.Y[i] = uint8(r.IntN(256))
	}
	for i := range y0.Cb {
		y0.Cb[i], y0.Cr[i] = uint8(r.IntN(256)), uint8(r.IntN(256))
	}
	imgs = append(imgs, y0)
	rgba, nrgba, gray := image.NewRGBA(b), image.NewNRGBA(b), image.NewGray(b)
	pal := image.NewPaletted(b, palette.Plan9)
	for i := range rgba.Pix {
		nrgba.Pix[i] = uint8(r.IntN(256))
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			a := uint8(r.IntN(256))
			rgba.Set(x, y, color.RGBA{min(a, uint8(r.IntN(256))), min(a, uint8(r.IntN(256))), min(a, uint8(r.IntN(256))), a})
			gray.SetGray(x, y, color.Gray{uint8(r.IntN(256))})
			pal.SetColorIndex(x, y, uint8(r.IntN(256)))
		}
	}
	return append(imgs, rgba, nrgba, gray, pal)
}

// want is the colour composited over black, from image/color.
func want(img image.Image, x, y int) [3]int32 {
	if !(image.Point{x, y}).In(img.Bounds()) {
		return [3]int32{}
	}
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]int32{int32(r >> 8), int32(g >> 8), int32(b >> 8)}
}

func TestRGBAndQuad(t *testing.T) {
	for _, img := range testImages() {
		s := New(img)
		b := img.Bounds()
		for y := b.Min.Y - 2; y < b.Max.Y+2; y++ {
			for x := b.Min.X - 2; x < b.Max.X+2; x++ {
				if got := s.RGBOrBlack(x, y); got != want(img, x, y) {
					t.Fatalf("%T: RGBOrBlack(%d, %d) = %v, want %v", img, x, y, got, want(img, x, y))
				}
				if x+1 < b.Max.X && y+1 < b.Max.Y && x >= b.Min.X && y >= b.Min.Y {
					var q [4][3]int32
					s.Quad(x, y, &q)
					if q != [4][3]int32{want(img, x, y), want(img, x+1, y), want(img, x, y+1), want(img, x+1, y+1)} {
						t.Fatalf("%T: Quad(%d, %d) = %v", img, x, y, q)
					}
				}
			}
		}
	}
}

func TestRGBRow(t *testing.T) {
	for _, img := range testImages() {
		s := New(img)
		b := img.Bounds()
		for _, c := range []struct{ x, y, n int }{
			{b.Min.X, b.Min.Y, b.Dx()}, {b.Min.X - 4, b.Min.Y + 1, b.Dx() + 9}, {b.Max.X - 2, b.Max.Y - 1, 5},
			{b.Min.X, b.Max.Y, 3}, {b.Max.X + 1, b.Min.Y, 2},
		} {
			dst := make([]uint8, 3*c.n)
			for i := range dst {
				dst[i] = 0xAA // must be overwritten
			}
			s.RGBRow(c.x, c.y, dst)
			for i := range c.n {
				w := want(img, c.x+i, c.y)
				if got := [3]int32{int32(dst[3*i]), int32(dst[3*i+1]), int32(dst[3*i+2])}; got != w {
					t.Fatalf("%T: RGBRow(%d, %d) pixel %d = %v, want %v", img, c.x, c.y, i, got, w)
				}
			}
		}
	}
}

func TestGrayRow(t *testing.T) {
	for _, img := range testImages() {
		s := New(img)
		b := img.Bounds()
		dst := make([]uint8, b.Dx())
		for y := b.Min.Y; y < b.Max.Y; y++ {
			s.GrayRow(y, dst)
			for i, v := range dst {
				c := color.Gray16Model.Convert(img.At(b.Min.X+i, y)).(color.Gray16)
				w := int(c.Y >> 8)
				if m, ok := img.(*image.YCbCr); ok {
					w = int(m.Y[m.YOffset(b.Min.X+i, y)]) // JPEG's Y is the luma
				}
				if d := int(v) - w; d < -1 || d > 1 {
					t.Fatalf("%T: GrayRow(%d)[%d] = %d, want %d", img, y, i, v, w)
				}
			}
		}
	}
}

func TestBilinear(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, img := range testImages() {
		s := New(img)
		b := img.Bounds()
		// At pixel centres a sample is the pixel; far outside it is black.
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				var acc [3]float64
				s.AddBilinear(float64(x), float64(y), &acc)
				w := want(img, x, y)
				if acc != [3]float64{float64(w[0]), float64(w[1]), float64(w[2])} {
					t.Fatalf("%T: sample at (%d, %d) = %v, want %v", img, x, y, acc, w)
				}
			}
		}
		var acc [3]float64
		s.AddBilinear(float64(b.Max.X)+1.5, float64(b.Min.Y)-3.25, &acc)
		if acc != [3]float64{} {
			t.Errorf("%T: sample outside = %v, want black", img, acc)
		}
		// Between pixels: the weighted sum; the patch gives the same bits.
		var p Patch
		p.Fill(s, b.Inset(-2))
		if p.Bounds() != b {
			t.Errorf("patch bounds %v, want the image's %v", p.Bounds(), b)
		}
		for range 200 {
			x := float64(b.Min.X-2) + r.Float64()*float64(b.Dx()+4)
			y := float64(b.Min.Y-2) + r.Float64()*float64(b.Dy()+4)
			var a, c [3]float64
			s.AddBilinear(x, y, &a)
			p.AddBilinear(x, y, &c)
			if a != c {
				t.Fatalf("%T: at (%.3f, %.3f) source %v, patch %v", img, x, y, a, c)
			}
			x0, y0 := int(x+8)-8, int(y+8)-8 // floor for the range above
			fx, fy := x-float64(x0), y-float64(y0)
			var e [3]float64
			for _, tap := range []struct {
				dx, dy int
				w      float64
			}{{0, 0, (1 - fx) * (1 - fy)}, {1, 0, fx * (1 - fy)}, {0, 1, (1 - fx) * fy}, {1, 1, fx * fy}} {
				v := want(img, x0+tap.dx, y0+tap.dy)
				for k := range 3 {
					e[k] += tap.w * float64(v[k])
				}
			}
			for k := range 3 {
				if d := a[k] - e[k]; d > 1e-9 || d < -1e-9 {
					t.Fatalf("%T: at (%.3f, %.3f) %v, want %v", img, x, y, a, e)
				}
			}
		}
	}
}
