package detect

import "math"

// Virtual padding.
//
// pico's cascade only scans windows that lie wholly inside the image, so a
// face whose forehead or chin touches the border (an ID-document portrait, a
// close selfie, a tight face crop) has no window around it. When neither the
// upright scan nor the mirror image gives a confident face, Detect therefore
// pads the grey working image by padFraction of its shorter side on every
// side and scans the windows that cross the old border (centred inside the
// image; the windows wholly inside were already scanned), up to
// 1+2·padFraction of the shorter side. A border window cluster replaces an
// inner one it overlaps only when it scores more, so faces inside the image
// keep their boxes. The later retries (rotations, weak windows) run on the
// image as it is; the weak border windows are ONet's last resort.
//
// The padding repeats the edge pixels outward. On issue 9's LFW crops
// (TestLFWCrops, 300 crops per margin, every fourth of the first 1200
// reference images) it found more faces than the alternatives: crops cut 10 %
// inside the reference face box gave no face in 3.3 % with repeated edges,
// 5.3 % with a mirrored border and 9.7 % with flat mid grey (padding 0.4 of
// the shorter side each time). The cascade compares pixel pairs; repeated
// edges keep the light/dark relations across the border (skin stays skin,
// hair stays hair, background stays background), so a face cut at its
// forehead or chin still has the contour contrast the cascade looks for,
// while flat grey erases it and a mirror doubles features. padFraction 0.4
// measured better than 0.25 (9.3 %) and 0.5 (4.3 %) on the same crops (these
// are fitted constants; the full-set figures are in the package
// documentation). ONet and package align read the original image and fill
// pixels outside it with black, as MTCNN's own crops do, except that ONet
// repeats the edges for the proposal stage's boxes (see proposals.go).
const padFraction = 0.4

// padded returns g with pad pixels added on every side, each a copy of the
// nearest pixel of g.
func (g grayImage) padded(pad int) grayImage {
	w, h := g.W+2*pad, g.H+2*pad
	out := grayImage{Pix: make([]uint8, w*h), W: w, H: h}
	for y := range h {
		src := g.Pix[min(max(y-pad, 0), g.H-1)*g.W:][:g.W]
		row := out.Pix[y*w : (y+1)*w]
		copy(row[pad:], src)
		for x := range pad {
			row[x] = src[0]
			row[w-1-x] = src[g.W-1]
		}
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
