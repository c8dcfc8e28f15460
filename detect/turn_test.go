package detect

import (
	"image"
	"image/draw"
	"testing"

	"gonum.org/v1/gonum/spatial/r2"
)

// turnCW returns img turned by k quarter turns clockwise, with its origin at
// (0, 0), and the map from img's pixel coordinates to the turned image's.
func turnCW(img image.Image, k int) (*image.RGBA, func(p r2.Vec) r2.Vec) {
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	// One clockwise quarter turn on screen (y down): (x, y) → (h-1-y, x).
	to := func(p r2.Vec) r2.Vec { return p }
	for range k & 3 {
		dst := image.NewRGBA(image.Rect(0, 0, h, w))
		for y := range h {
			for x := range w {
				copy(dst.Pix[dst.PixOffset(h-1-y, x):][:4], src.Pix[src.PixOffset(x, y):][:4])
			}
		}
		prev, hh := to, float64(h)
		to = func(p r2.Vec) r2.Vec { q := prev(p); return r2.Vec{X: hh - 1 - q.Y, Y: q.X} }
		src, w, h = dst, h, w
	}
	return src, to
}

// TestQuarterTurns: a portrait stored turned by 90, 180 or 270 degrees
// clockwise (EXIF orientation stripped) gives its face, with Orientation
// saying the turn and the landmarks those of the upright detection turned
// with the image, in the face's own order.
func TestQuarterTurns(t *testing.T) {
	d := detector(t)
	off, err := New(&Options{NoQuarterTurns: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"astronaut_eileen_collins.png", "obama_portrait_2012.jpg", "grace_hopper_128.jpg"} {
		img := fixture(t, name)
		up, err := d.Detect(img)
		if err != nil || len(up) != 1 || up[0].Orientation != 0 {
			t.Fatalf("%s upright: %+v, %v", name, up, err)
		}
		iod := r2.Norm(r2.Sub(up[0].Landmarks[1], up[0].Landmarks[0]))
		for k := 1; k < 4; k++ {
			turned, to := turnCW(img, k)
			faces, err := d.Detect(turned)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != 1 {
				t.Errorf("%s turned %d°: %d faces, want 1", name, 90*k, len(faces))
				continue
			}
			f := faces[0]
			if f.Orientation != 90*k {
				t.Errorf("%s turned %d°: Orientation %d", name, 90*k, f.Orientation)
			}
			for i, p := range f.Landmarks {
				if e := r2.Norm(r2.Sub(p, to(up[0].Landmarks[i]))) / iod; e > 0.2 {
					t.Errorf("%s turned %d°: landmark %d off by %.2f eye distances", name, 90*k, i, e)
				}
			}
			if c := f.Box.Min.Add(f.Box.Max).Div(2); !c.In(turned.Bounds()) {
				t.Errorf("%s turned %d°: box %v centred outside the image", name, 90*k, f.Box)
			}
			// Without the quarter turns nothing is found, so the test
			// exercises them.
			if k == 1 {
				if n, _ := off.Detect(turned); len(n) != 0 {
					t.Errorf("%s turned %d°: found without quarter turns (Orientation %d)", name, 90*k, n[0].Orientation)
				}
			}
		}
	}
}
