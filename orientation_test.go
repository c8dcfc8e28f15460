package facematch

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"

	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/internal/sharedtest"
)

// turnCW returns img turned k quarter turns clockwise, its origin at (0, 0).
func turnCW(img image.Image, k int) *image.RGBA {
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	for range k & 3 {
		w, h := src.Bounds().Dx(), src.Bounds().Dy()
		dst := image.NewRGBA(image.Rect(0, 0, h, w))
		for y := range h {
			for x := range w {
				// One clockwise quarter turn (y down): (x, y) → (h-1-y, x).
				copy(dst.Pix[dst.PixOffset(h-1-y, x):][:4], src.Pix[src.PixOffset(x, y):][:4])
			}
		}
		src = dst
	}
	return src
}

// TestCompareOrientation: a selfie stored sideways (no EXIF orientation)
// still matches, and Result.Images reports the correction per image, the
// reference upright (0), the selfie as turned (90, 180, 270).
func TestCompareOrientation(t *testing.T) {
	m := newTestMatcher(t)
	ref, _, err := imageio.Decode(readFile(t, testdata(t, "astronaut.jpg")), nil)
	if err != nil {
		t.Fatal(err)
	}
	selfie, _, err := imageio.Decode(readFile(t, testdata(t, "astronaut_moved.jpg")), nil)
	if err != nil {
		t.Fatal(err)
	}
	up, err := m.Compare(context.Background(), Image(ref), Image(selfie), nil)
	if err != nil {
		t.Fatal(err)
	}
	if up.Images[0].Orientation != 0 || up.Images[1].Orientation != 0 {
		t.Fatalf("upright pair: orientations %d, %d, want 0, 0", up.Images[0].Orientation, up.Images[1].Orientation)
	}
	for _, k := range []int{1, 2, 3} {
		res, err := m.Compare(context.Background(), Image(ref), Image(turnCW(selfie, k)), nil)
		if err != nil {
			t.Fatalf("selfie turned %d°: %v", 90*k, err)
		}
		if got := res.Images[1].Orientation; got != 90*k {
			t.Errorf("selfie turned %d°: Images[1].Orientation = %d", 90*k, got)
		}
		if got := res.Images[1].Faces[res.Images[1].Used].Orientation; got != res.Images[1].Orientation {
			t.Errorf("selfie turned %d°: used face's Orientation %d, image's %d", 90*k, got, res.Images[1].Orientation)
		}
		if res.Images[0].Orientation != 0 {
			t.Errorf("selfie turned %d°: reference Orientation = %d, want 0", 90*k, res.Images[0].Orientation)
		}
		if !res.Match {
			t.Errorf("selfie turned %d°: no match (%.2f %%, upright %.2f %%)", 90*k, res.Percentage, up.Percentage)
		}
		t.Logf("turned %d°: %.2f %% (upright %.2f %%)", 90*k, res.Percentage, up.Percentage)
	}
	// The reference turned too: image1's correction is its own.
	res, err := m.Compare(context.Background(), Image(turnCW(ref, 3)), Image(selfie), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Images[0].Orientation != 270 || res.Images[1].Orientation != 0 {
		t.Errorf("reference turned 270°: orientations %d, %d, want 270, 0", res.Images[0].Orientation, res.Images[1].Orientation)
	}
}

// TestLivenessTurnedFace: a selfie stored sideways gets the liveness of its
// upright face (the networks were trained on upright faces), and the
// reported crops are in the decoded image's coordinates.
func TestLivenessTurnedFace(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	for _, name := range []string{"image_T1.jpg", "image_F1.jpg"} {
		img, _, err := imageio.Decode(readFile(t, sharedtest.Path(t, "models", "minifasnet", "samples", name)), nil)
		if err != nil {
			t.Fatal(err)
		}
		up, err := m.Liveness(ctx, Image(img))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 2, 3} {
			turned := turnCW(img, k)
			r, err := m.Liveness(ctx, Image(turned))
			if err != nil {
				t.Fatalf("%s turned %d°: %v", name, 90*k, err)
			}
			t.Logf("%s turned %d°: score %.4f (upright %.4f)", name, 90*k, r.Score, up.Score)
			if r.Face.Orientation != 90*k {
				t.Errorf("%s turned %d°: face Orientation %d", name, 90*k, r.Face.Orientation)
			}
			if r.Live != up.Live || math.Abs(r.Score-up.Score) > 0.02 {
				t.Errorf("%s turned %d°: live %v score %.4f, upright live %v score %.4f", name, 90*k, r.Live, r.Score, up.Live, up.Score)
			}
			for _, ms := range r.Models {
				if !ms.Crop.Overlaps(r.Face.Box) || ms.Crop.Intersect(turned.Bounds()).Empty() {
					t.Errorf("%s turned %d°: %s crop %v does not cover the face %v", name, 90*k, ms.Name, ms.Crop, r.Face.Box)
				}
			}
		}
	}
}

// TestUprightFace: the part around the box is turned upright, the box
// follows it, and back maps the box to where it was.
func TestUprightFace(t *testing.T) {
	img := image.NewRGBA(image.Rect(5, 7, 205, 127)) // 200x120, origin not 0
	box := image.Rect(150, 20, 190, 60)
	// Mark the box's top-right corner pixel.
	img.SetRGBA(189, 20, color.RGBA{255, 0, 0, 255})
	for _, c := range []struct {
		orient int
		// where the marked pixel must land relative to the returned box:
		// the corner that is the face's top-left once upright
		corner func(b image.Rectangle) image.Point
	}{
		// Orientation 90: the face's top points right; turned back
		// counter-clockwise, the box's top-right corner becomes its
		// top-left.
		{90, func(b image.Rectangle) image.Point { return b.Min }},
		{180, func(b image.Rectangle) image.Point { return image.Pt(b.Min.X, b.Max.Y-1) }},
		{270, func(b image.Rectangle) image.Point { return image.Pt(b.Max.X-1, b.Max.Y-1) }},
	} {
		out, b, back := uprightFace(img, box, c.orient)
		if b.Dx() != box.Dy() || b.Dy() != box.Dx() || !b.In(out.Bounds()) {
			t.Errorf("orientation %d: box %v in %v", c.orient, b, out.Bounds())
		}
		if p := c.corner(b); out.At(p.X, p.Y) != (color.RGBA{255, 0, 0, 255}) {
			t.Errorf("orientation %d: marked pixel not at %v of box %v", c.orient, p, b)
		}
		if got := back(b); got != box {
			t.Errorf("orientation %d: back(box) = %v, want %v", c.orient, got, box)
		}
	}
	if out, b, _ := uprightFace(img, box, 0); out != image.Image(img) || b != box {
		t.Error("orientation 0 changed the image or the box")
	}
}
