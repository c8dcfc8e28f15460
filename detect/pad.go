package detect

import "math"

// Virtual padding.
//
// pico's cascade only scans windows that lie wholly inside the image, so a
// face whose forehead or chin touches the border (an ID-document portrait, a
// close selfie, a tight face crop) has no window around it. When the upright
// scan finds no confident face, Detect therefore pads the grey working
// image by padFraction of its shorter side on every side and scans the windows
// that cross the old border (centred inside the image; the windows wholly
// inside were already scanned), up to 1+2·padFraction of the shorter side.
// The retries that follow (mirror, rotations) then run on the padded image.
//
// The padding is mid grey (128), not the edge pixels repeated or mirrored:
// a mirrored border doubles half-faces into face-like patterns, and repeated
// edges draw streaks whose pixel comparisons mimic the vertical structure of
// a face, while a flat border makes every comparison inside it a tie, which
// the cascade has seen least of and scores as "no evidence". (Issue 9 measured
// the same: with a 25 % grey border every portrait tried was found.) ONet
// and package align read the original image, and both fill pixels outside
// it with black, as MTCNN's own crops do.
const padFraction = 0.25

// padFill is the grey value of the virtual padding.
const padFill = 128

// padded returns g with pad pixels of padFill added on every side.
func (g grayImage) padded(pad int) grayImage {
	w, h := g.W+2*pad, g.H+2*pad
	out := grayImage{Pix: make([]uint8, w*h), W: w, H: h}
	for i := range out.Pix {
		out.Pix[i] = padFill
	}
	for y := range g.H {
		copy(out.Pix[(y+pad)*w+pad:], g.Pix[y*g.W:(y+1)*g.W])
	}
	return out
}

// turned returns g turned by k quarter turns, exactly: the raster rotated
// gives for theta = k·90° (see rotated), without resampling. toSrc maps its
// pixel coordinates to g's.
func (g grayImage) turned(k int) (grayImage, func(x, y float64) (float64, float64)) {
	k &= 3
	sin, cos := [4]float64{0, 1, 0, -1}[k], [4]float64{1, 0, -1, 0}[k]
	ow, oh := g.W, g.H
	if k&1 == 1 {
		ow, oh = g.H, g.W
	}
	cx, cy := float64(g.W-1)/2, float64(g.H-1)/2
	ocx, ocy := float64(ow-1)/2, float64(oh-1)/2
	toSrc := func(x, y float64) (float64, float64) {
		dx, dy := x-ocx, y-ocy
		return cos*dx - sin*dy + cx, sin*dx + cos*dy + cy
	}
	out := grayImage{Pix: make([]uint8, ow*oh), W: ow, H: oh}
	for Y := range oh {
		for X := range ow {
			sx, sy := toSrc(float64(X), float64(Y))
			out.Pix[Y*ow+X] = g.Pix[int(math.Round(sy))*g.W+int(math.Round(sx))]
		}
	}
	return out, toSrc
}
