package onet

import (
	"image"
	"image/color"
	"math"

	"gonum.org/v1/gonum/spatial/r2"
)

// Box is a square face box in pixel-index coordinates: it covers the pixels
// with X <= x < X+Size and Y <= y < Y+Size, like an image.Rectangle, but with
// fractional edges. Angle, in radians, turns the square about its centre
// (positive turns the image's x axis towards its y axis), for faces that are
// not upright.
type Box struct{ X, Y, Size, Angle float64 }

// Result is what the network says about one box.
type Result struct {
	// Landmarks are the five points (left eye, right eye, nose tip, left and
	// right mouth corner, left/right as seen in the image) in the image's
	// pixel coordinates, pixel centres at integers.
	Landmarks [5]r2.Vec
	// Refined is the box after the network's regression, made square.
	Refined Box
	// Face is the network's probability that the box holds a face.
	Face float32
}

// Run crops box from img, resamples it to 48x48 and runs the network.
func (n *Net) Run(img image.Image, box Box) Result {
	var in [Input * Input * 3]float32
	crop(img, box, in[:])
	lm, reg, prob := n.forward(in[:])
	var res Result
	toImage := box.frame()
	for k := range 5 {
		// The Caffe weights were trained on 1-based (Matlab) coordinates; the
		// one-pixel shift removes the bias against the LFW reference
		// landmarks (mean NME 0.060 → 0.043, see onet_test.go).
		res.Landmarks[k] = toImage(box.Size*float64(lm[k])-1, box.Size*float64(lm[k+5])-1)
	}
	// Regression in the box frame: new edges relative to the old ones.
	x1, y1 := box.Size*float64(reg[0]), box.Size*float64(reg[1])
	x2, y2 := box.Size*(1+float64(reg[2])), box.Size*(1+float64(reg[3]))
	s := max(x2-x1, y2-y1)
	c := toImage((x1+x2)/2-0.5, (y1+y2)/2-0.5) // centre, as a pixel-centre point
	res.Refined = Box{X: c.X + 0.5 - s/2, Y: c.Y + 0.5 - s/2, Size: s, Angle: box.Angle}
	res.Face = prob[1]
	return res
}

// frame returns the map from the box's own pixel-centre coordinates (origin
// at the centre of its top-left pixel when upright) to the image's.
func (b Box) frame() func(u, v float64) r2.Vec {
	sin, cos := math.Sincos(b.Angle)
	// Centre of the box in pixel-centre coordinates.
	cx, cy := b.X+b.Size/2-0.5, b.Y+b.Size/2-0.5
	h := b.Size/2 - 0.5
	return func(u, v float64) r2.Vec {
		du, dv := u-h, v-h
		return r2.Vec{X: cx + cos*du - sin*dv, Y: cy + sin*du + cos*dv}
	}
}

// crop fills dst (NHWC, transposed for the Caffe-trained weights, scaled to
// (v-127.5)/128) with box resampled to 48x48. Each output pixel averages a
// k x k grid of bilinear samples across its footprint (k grows with the
// downscale factor), which approximates area interpolation without aliasing.
func crop(img image.Image, box Box, dst []float32) {
	at := rgbAccessor(img)
	b := img.Bounds()
	toImage := box.frame()
	step := box.Size / Input
	k := int(math.Ceil(step))
	k = min(max(k, 1), 4)
	inv := 1 / float64(k*k)
	for r := range Input {
		for c := range Input {
			var acc [3]float64
			for sy := range k {
				for sx := range k {
					// Sample point in the box's pixel-centre coordinates.
					u := (float64(c)+(float64(sx)+0.5)/float64(k))*step - 0.5
					v := (float64(r)+(float64(sy)+0.5)/float64(k))*step - 0.5
					p := toImage(u, v)
					bilinear(at, b, p.X, p.Y, &acc)
				}
			}
			o := (c*Input + r) * 3 // transposed
			for ch := range 3 {
				dst[o+ch] = float32((acc[ch]*inv - 127.5) * 0.0078125)
			}
		}
	}
}

func bilinear(at func(x, y int) (r, g, b float64), bounds image.Rectangle, x, y float64, acc *[3]float64) {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	for dy := range 2 {
		wy := fy
		if dy == 0 {
			wy = 1 - fy
		}
		py := iy + dy
		if py < bounds.Min.Y || py >= bounds.Max.Y || wy == 0 {
			continue
		}
		for dx := range 2 {
			wx := fx
			if dx == 0 {
				wx = 1 - fx
			}
			px := ix + dx
			if px < bounds.Min.X || px >= bounds.Max.X || wx == 0 {
				continue
			}
			r, g, bb := at(px, py)
			w := wx * wy
			acc[0] += w * r
			acc[1] += w * g
			acc[2] += w * bb
		}
	}
}

// rgbAccessor returns a fast 8-bit RGB reader for the common decoded types.
func rgbAccessor(img image.Image) func(x, y int) (r, g, b float64) {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (float64, float64, float64) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			return float64(r), float64(g), float64(b)
		}
	case *image.RGBA:
		return func(x, y int) (float64, float64, float64) {
			i := m.PixOffset(x, y)
			return float64(m.Pix[i]), float64(m.Pix[i+1]), float64(m.Pix[i+2])
		}
	case *image.Gray:
		return func(x, y int) (float64, float64, float64) {
			v := float64(m.Pix[m.PixOffset(x, y)])
			return v, v, v
		}
	}
	return func(x, y int) (float64, float64, float64) {
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		return float64(c.R), float64(c.G), float64(c.B)
	}
}
