package liveness

import (
	"image"
	"math"
)

// The MiniFASNets were trained on crops around the boxes of minivision's
// RetinaFace detector, which are a little narrower than package detect's
// square boxes and sit lower (they run from the brows to the chin). These
// are the medians, over the 13 images of golden/minifasnet, of minivision's
// box relative to ours (centre offset and size as fractions of our side);
// see testdata/boxmap.md for the per-image figures and how far the scores
// move.
const (
	boxShiftX = 0.019
	boxShiftY = 0.096
	boxWidth  = 0.910
	boxHeight = 0.926
)

// FromDetector maps a face box of package detect (detect.Face.Box) to the
// box minivision's detector would have drawn around the same face, which is
// what Check expects.
func FromDetector(box image.Rectangle) image.Rectangle {
	s := float64(box.Dx())
	cx := float64(box.Min.X+box.Max.X)/2 + boxShiftX*s
	cy := float64(box.Min.Y+box.Max.Y)/2 + boxShiftY*float64(box.Dy())
	w, h := boxWidth*s, boxHeight*float64(box.Dy())
	x0, y0 := int(math.Round(cx-w/2)), int(math.Round(cy-h/2))
	return image.Rect(x0, y0, x0+int(math.Round(w)), y0+int(math.Round(h)))
}
