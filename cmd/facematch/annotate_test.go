package main

import (
	"image"
	"image/color"
	"testing"

	"gonum.org/v1/gonum/spatial/r2"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/detect"
)

// TestPanelBoxAcrossFrame: a face cut by the frame has a box reaching past
// the image (and landmarks possibly outside it); the panel outlines the
// part inside, its cut sides on the image's edge, and does not panic.
func TestPanelBoxAcrossFrame(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 20, 210, 220)) // a non-zero origin too
	usedCol := color.RGBA{0, 255, 0, 255}
	cases := []struct {
		name string
		box  image.Rectangle
		// edge pixels of the panel (200x200 images are drawn at scale
		// panelMaxW/200 or panelMaxH/200) that must be outlined
		left, top bool
	}{
		{"top-left", image.Rect(-30, -40, 90, 80), true, true},
		{"left", image.Rect(0, 60, 120, 180), true, false},
		{"inside", image.Rect(60, 70, 160, 170), false, false},
	}
	for _, c := range cases {
		f := detect.Face{Box: c.box, Score: 30,
			Landmarks: [5]r2.Vec{{X: -5, Y: -8}, {X: 40, Y: 30}, {X: 20, Y: 60}, {X: 5, Y: 80}, {X: 400, Y: 500}}}
		p := panel(facematch.ImageFaces{Width: 200, Height: 200, Faces: []detect.Face{f}, Used: 0, Image: img}, usedCol)
		pb := p.Bounds()
		s := float64(pb.Dx()) / 200
		// A pixel on the box's vertical middle, at the panel's left edge,
		// and on its horizontal middle at the top edge.
		midY := int(float64(c.box.Min.Y+c.box.Max.Y-2*20) / 2 * s)
		midX := int(float64(c.box.Min.X+c.box.Max.X-2*10) / 2 * s)
		midY = min(max(midY, 0), pb.Dy()-1)
		midX = min(max(midX, 0), pb.Dx()-1)
		if got := p.RGBAAt(0, midY) == usedCol; got != c.left {
			t.Errorf("%s: left edge outlined = %v, want %v", c.name, got, c.left)
		}
		if got := p.RGBAAt(midX, 0) == usedCol; got != c.top {
			t.Errorf("%s: top edge outlined = %v, want %v", c.name, got, c.top)
		}
	}
}
