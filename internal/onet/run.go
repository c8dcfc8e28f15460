package onet

import (
	"image"
	"math"
	"sync"

	"github.com/facematch/facematch/internal/sample"

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

// Run crops box from img (black outside the image), resamples it to 48x48
// and runs the network. A
// failure of the runtime (ErrInternal from package nn: a bug, never bad
// input) gives the zero Result, whose Face probability 0 confirms nothing;
// RunChecked reports it instead.
func (n *Net) Run(img image.Image, box Box) Result {
	res, _ := n.RunChecked(img, box)
	return res
}

// RunChecked is Run returning the runtime's error, if any.
func (n *Net) RunChecked(img image.Image, box Box) (Result, error) {
	return n.RunPadded(img, box, PadBlack)
}

// Padding says what the crop of a box that reaches outside the image holds
// there.
type Padding int

const (
	// PadBlack fills the outside with black, as MTCNN's own crops do.
	PadBlack Padding = iota
	// PadEdge repeats the image's edge pixels outward (a sample point
	// outside the image reads the nearest point of its border).
	PadEdge
)

// RunPadded is RunChecked with the given padding outside the image.
func (n *Net) RunPadded(img image.Image, box Box, pad Padding) (Result, error) {
	var in [Input * Input * 3]float32
	crop(img, box, pad, in[:])
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
// Pixels are read by package sample, composited over black. Outside the
// image, PadBlack reads black; PadEdge moves each sample point onto the
// nearest point of the image (bilinear sampling of the image with its edge
// pixels repeated outward).
//
// When the pixels under the box are fewer than the bilinear taps, they are
// first copied to an RGB patch, so each is converted (from YCbCr, say) once
// instead of up to 64 times; the result is the same to the bit.
func crop(img image.Image, box Box, pad Padding, dst []float32) {
	s := sample.New(img)
	k := box.samples()
	src := source{s: s}
	r := box.footprint()
	if pad == PadEdge {
		// The crop reads the pixels of the footprint moved into the image.
		b := s.Bounds()
		r.Min.X, r.Max.X = min(max(r.Min.X, b.Min.X), b.Max.X-1), max(min(r.Max.X, b.Max.X), b.Min.X+1)
		r.Min.Y, r.Max.Y = min(max(r.Min.Y, b.Min.Y), b.Max.Y-1), max(min(r.Max.Y, b.Max.Y), b.Min.Y+1)
	}
	if r = r.Intersect(s.Bounds()); r.Dx()*r.Dy() < Input*Input*k*k*4 {
		src.p = patches.Get().(*sample.Patch)
		defer patches.Put(src.p)
		src.p.Fill(s, r)
	}
	cropAt(&src, box, pad, dst)
}

// samples returns k, the side of the grid of samples per output pixel.
func (b Box) samples() int {
	return min(max(int(math.Ceil(b.Size/Input)), 1), 4)
}

// source reads the image: from the Source, or from a patch that covers
// every pixel the crop reads.
type source struct {
	s *sample.Source
	p *sample.Patch // nil: read from s
}

var patches = sync.Pool{New: func() any { return new(sample.Patch) }}

// cropAt is crop reading through src.
func cropAt(src *source, box Box, pad Padding, dst []float32) {
	toImage := box.frame()
	b := src.s.Bounds()
	xlo, ylo := float64(b.Min.X), float64(b.Min.Y)
	xhi, yhi := float64(b.Max.X-1), float64(b.Max.Y-1)
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
					if pad == PadEdge {
						p.X, p.Y = min(max(p.X, xlo), xhi), min(max(p.Y, ylo), yhi)
					}
					if src.p != nil {
						src.p.AddBilinear(p.X, p.Y, &acc)
					} else {
						src.s.AddBilinear(p.X, p.Y, &acc)
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
