package facematch

import (
	"context"
	"image"
	"image/draw"
	"testing"

	"github.com/facematch/facematch/internal/imageio"
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
