package onet

import (
	"image"
	"image/color"
	"math"
	"sync"

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

// Run crops box from img, resamples it to 48x48 and runs the network. A
// failure of the runtime (ErrInternal from package nn: a bug, never bad
// input) gives the zero Result, whose Face probability 0 confirms nothing;
// RunChecked reports it instead.
func (n *Net) Run(img image.Image, box Box) Result {
	res, _ := n.RunChecked(img, box)
	return res
}

// RunChecked is Run returning the runtime's error, if any.
func (n *Net) RunChecked(img image.Image, box Box) (Result, error) {
	var in [Input * Input * 3]float32
	crop(img, box, in[:])
	lm, reg, prob, err := n.forward(in[:])
	if err != nil {
		return Result{}, err
	}
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
	return res, nil
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
//
// When the pixels under the box are fewer than the bilinear taps, they are
// first copied to an RGB patch, so each is converted (from YCbCr, say) once
// instead of up to 64 times; the result is the same to the bit.
func crop(img image.Image, box Box, dst []float32) {
	at := rgbAccessor(img)
	b := img.Bounds()
	k := box.samples()
	src := source{at: at}
	if r := box.footprint().Intersect(b); r.Dx()*r.Dy() < Input*Input*k*k*4 {
		src.p = patches.Get().(*patch)
		defer patches.Put(src.p)
		src.p.fill(at, r)
	}
	cropAt(&src, b, box, dst)
}

// samples returns k, the side of the grid of samples per output pixel.
func (b Box) samples() int {
	return min(max(int(math.Ceil(b.Size/Input)), 1), 4)
}

// cropAt is crop reading the image, of the given bounds, through at.
func cropAt(src *source, b image.Rectangle, box Box, dst []float32) {
	toImage := box.frame()
	step := box.Size / Input
	k := box.samples()
	inv := 1 / float64(k*k)
	var frac [4]float64 // sample offsets within an output pixel
	for i := range k {
		frac[i] = (float64(i) + 0.5) / float64(k)
	}
	for r := range Input {
		for c := range Input {
			var acc [3]float64
			for sy := range k {
				for sx := range k {
					// Sample point in the box's pixel-centre coordinates.
					u := (float64(c)+frac[sx])*step - 0.5
					v := (float64(r)+frac[sy])*step - 0.5
					p := toImage(u, v)
					if src.p != nil {
						src.p.bilinear(p.X, p.Y, &acc)
					} else {
						bilinear(src.at, b, p.X, p.Y, &acc)
					}
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

// footprint returns a rectangle holding every pixel a bilinear sample inside
// the box can read, with a pixel to spare on each side.
func (b Box) footprint() image.Rectangle {
	toImage := b.frame()
	lo, hi := math.Inf(1), math.Inf(-1)
	x0, y0, x1, y1 := lo, lo, hi, hi
	for _, c := range [4][2]float64{{-0.5, -0.5}, {b.Size - 0.5, -0.5}, {-0.5, b.Size - 0.5}, {b.Size - 0.5, b.Size - 0.5}} {
		p := toImage(c[0], c[1])
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	// Clamp before converting: boxes far outside the image stay valid.
	const far = 1 << 30
	cl := func(v float64) int { return int(max(-far, min(far, v))) }
	return image.Rect(cl(math.Floor(x0))-1, cl(math.Floor(y0))-1, cl(math.Floor(x1))+3, cl(math.Floor(y1))+3)
}

// source reads the image: through at, or from a patch that covers every
// pixel the crop reads.
type source struct {
	at func(x, y int) (r, g, b float64)
	p  *patch // nil: read through at
}

// patch is an RGB copy of part of an image.
type patch struct {
	r   image.Rectangle
	pix []uint8 // 3 per pixel, row-major over r
}

var patches = sync.Pool{New: func() any { return new(patch) }}

// fill copies r (inside the image) through at, whose values are 8-bit.
func (p *patch) fill(at func(x, y int) (r, g, b float64), r image.Rectangle) {
	p.r = r
	n := 3 * r.Dx() * r.Dy()
	if cap(p.pix) < n {
		p.pix = make([]uint8, n)
	}
	p.pix = p.pix[:n]
	i := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r, g, b := at(x, y)
			p.pix[i], p.pix[i+1], p.pix[i+2] = uint8(r), uint8(g), uint8(b)
			i += 3
		}
	}
}

// bilinear is the package's bilinear for the patch, whose bounds are the
// image's within the crop's footprint: the same taps, weights and order, read
// straight from the copy.
func (p *patch) bilinear(x, y float64, acc *[3]float64) {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0)-p.r.Min.X, int(y0)-p.r.Min.Y
	w, h := p.r.Dx(), p.r.Dy()
	wys := [2]float64{1 - fy, fy}
	wxs := [2]float64{1 - fx, fx}
	for dy, wy := range wys {
		py := iy + dy
		if py < 0 || py >= h || wy == 0 {
			continue
		}
		row := p.pix[3*py*w : 3*(py+1)*w]
		for dx, wx := range wxs {
			px := ix + dx
			if px < 0 || px >= w || wx == 0 {
				continue
			}
			q := row[3*px : 3*px+3]
			w := wx * wy
			acc[0] += w * float64(q[0])
			acc[1] += w * float64(q[1])
			acc[2] += w * float64(q[2])
		}
	}
}
