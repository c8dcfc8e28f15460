package align

import (
	"errors"
	"fmt"
	"github.com/facematch/facematch/internal/sample"
	"image"
	"math"

	"golang.org/x/image/math/f64"
	"gonum.org/v1/gonum/spatial/r2"
)

// Size is the side of the aligned crop in pixels.
const Size = 112

// Template returns the positions of the five landmarks (left eye, right
// eye, nose tip, left mouth corner, right mouth corner) in the Size x Size
// crop that ArcFace-family models, MobileFaceNet included, were trained on.
func Template() [5]r2.Vec { return template }

var template = [5]r2.Vec{
	{X: 38.2946, Y: 51.6963},
	{X: 73.5318, Y: 51.5014},
	{X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655},
	{X: 70.7299, Y: 92.2041},
}

// ErrDegenerate reports landmarks from which no similarity transform can be
// estimated: a coordinate is NaN or infinite, or the points of src or dst
// collapse onto one point (zero spread).
var ErrDegenerate = errors.New("align: degenerate landmarks")

// minSpread is the smallest mean squared distance of the points from their
// centroid, in squared pixels, that Estimate accepts (RMS spread 1e-4 px).
const minSpread = 1e-8

// Estimate returns the similarity transform T (rotation, uniform scale > 0,
// translation; no reflection) that minimises sum |T(src[i]) - dst[i]|². T is
// returned as an f64.Aff3 {a, b, c, d, e, f} mapping (x, y) to
// (a*x + b*y + c, d*x + e*y + f), with a = e and b = -d.
//
// This is Umeyama's least-squares solution restricted to proper rotations.
// In two dimensions it has the closed form T(z) = k*(z - mean(src)) +
// mean(dst) over complex numbers, with k = sum conj(s_i)·d_i / sum |s_i|²
// for the centred points s_i, d_i — the same optimum as Umeyama's SVD with
// its reflection guard (the tests check the two against each other).
func Estimate(src, dst [5]r2.Vec) (f64.Aff3, error) {
	var ms, md r2.Vec
	for i := range src {
		if !finite(src[i]) || !finite(dst[i]) {
			return f64.Aff3{}, fmt.Errorf("%w: point %d is not finite (src %v, dst %v)", ErrDegenerate, i, src[i], dst[i])
		}
		ms = r2.Add(ms, src[i])
		md = r2.Add(md, dst[i])
	}
	const n = float64(len(src))
	ms, md = r2.Scale(1/n, ms), r2.Scale(1/n, md)
	var re, im, vs, vd float64
	for i := range src {
		s, d := r2.Sub(src[i], ms), r2.Sub(dst[i], md)
		re += s.X*d.X + s.Y*d.Y
		im += s.X*d.Y - s.Y*d.X
		vs += s.X*s.X + s.Y*s.Y
		vd += d.X*d.X + d.Y*d.Y
	}
	if !(vs/n >= minSpread) || !(vd/n >= minSpread) {
		return f64.Aff3{}, fmt.Errorf("%w: the points collapse (mean squared spread src %g, dst %g)", ErrDegenerate, vs/n, vd/n)
	}
	p, q := re/vs, im/vs
	m := f64.Aff3{
		p, -q, md.X - (p*ms.X - q*ms.Y),
		q, p, md.Y - (q*ms.X + p*ms.Y),
	}
	for _, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return f64.Aff3{}, fmt.Errorf("%w: transform overflows", ErrDegenerate)
		}
	}
	if p*p+q*q == 0 {
		return f64.Aff3{}, fmt.Errorf("%w: the landmarks do not determine a rotation", ErrDegenerate)
	}
	return m, nil
}

func finite(v r2.Vec) bool {
	return !math.IsNaN(v.X) && !math.IsInf(v.X, 0) && !math.IsNaN(v.Y) && !math.IsInf(v.Y, 0)
}

// Apply returns m applied to the point v.
func Apply(m f64.Aff3, v r2.Vec) r2.Vec {
	return r2.Vec{X: m[0]*v.X + m[1]*v.Y + m[2], Y: m[3]*v.X + m[4]*v.Y + m[5]}
}

// Invert returns the inverse of the affine transform m, and false when m is
// singular. It computes it the way cv2.warpAffine does (reciprocal of the
// determinant), so that Warp samples exactly where OpenCV would.
func Invert(m f64.Aff3) (f64.Aff3, bool) {
	det := m[0]*m[4] - m[1]*m[3]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return f64.Aff3{}, false
	}
	d := 1 / det
	a, b, c, e := m[4]*d, -m[1]*d, -m[3]*d, m[0]*d
	return f64.Aff3{a, b, -a*m[2] - b*m[5], c, e, -c*m[2] - e*m[5]}, true
}

// Crop returns the Size x Size face crop of img for the five landmarks (in
// img's pixel coordinates): the landmarks are mapped onto Template by
// Estimate and img is sampled bilinearly through the inverse transform,
// black outside img. See the package documentation for the conventions.
func Crop(img image.Image, landmarks [5]r2.Vec) (*image.RGBA, error) {
	m, err := Estimate(landmarks, template)
	if err != nil {
		return nil, err
	}
	return Warp(img, m, Size, Size)
}

// Fixed-point constants of OpenCV's warpAffine/remap (imgwarp.cpp).
const (
	interBits  = 5              // INTER_BITS: sampling positions in 1/32 pixel
	interTab   = 1 << interBits // INTER_TAB_SIZE
	abBits     = 10             // AB_BITS: row/column terms in 1/1024 pixel
	abScale    = 1 << abBits
	roundDelta = abScale / interTab / 2
	// maxCoord bounds |coordinate| before the int conversion; anything
	// farther is outside every image (OpenCV saturates to int16 there).
	maxCoord = 1 << 40
)

// Warp returns the w x h image whose pixel (u, v) is img sampled bilinearly
// at m⁻¹(u, v), where m maps img coordinates to output coordinates. It
// reproduces cv2.warpAffine(img, m, (w, h)) with INTER_LINEAR and
// BORDER_CONSTANT 0 exactly, fixed-point arithmetic included: the sampling
// position is rounded to 1/32 pixel and the four weights are multiples of
// 1/1024 that sum to 1, with the result rounded to nearest. The output is
// opaque; img is composited over black. It fails with ErrDegenerate when m is
// not invertible.
func Warp(img image.Image, m f64.Aff3, w, h int) (*image.RGBA, error) {
	inv, ok := Invert(m)
	if !ok {
		return nil, fmt.Errorf("%w: singular transform %v", ErrDegenerate, m)
	}
	for _, v := range inv {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: transform %v has no finite inverse", ErrDegenerate, m)
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	s := sample.New(img)
	r := s.Bounds()
	// Column terms, as OpenCV's adelta/bdelta (on the stack for crop sizes).
	// int64 keeps the fixed-point arithmetic exact on 32-bit platforms too.
	var stack [2 * 256]int64
	cols := stack[:]
	if 2*w > len(cols) {
		cols = make([]int64, 2*w)
	}
	far := false
	for u := 0; u < w; u++ {
		af, bf := inv[0]*float64(u)*abScale, inv[3]*float64(u)*abScale
		if !(math.Abs(af) < maxCoord && math.Abs(bf) < maxCoord) {
			far = true
			break
		}
		cols[2*u], cols[2*u+1] = int64(math.RoundToEven(af)), int64(math.RoundToEven(bf))
	}
	if far {
		// Such a transform maps the output far outside any image: black.
		for i := 3; i < len(dst.Pix); i += 4 {
			dst.Pix[i] = 0xFF
		}
		return dst, nil
	}
	for v := 0; v < h; v++ {
		row := dst.Pix[v*dst.Stride : v*dst.Stride+4*w]
		fv := float64(v)
		// float64(...) forbids fused multiply-add, so every platform rounds
		// the same way.
		x0f := (float64(inv[1]*fv) + inv[2]) * abScale
		y0f := (float64(inv[4]*fv) + inv[5]) * abScale
		if !(math.Abs(x0f) < maxCoord && math.Abs(y0f) < maxCoord) {
			for u := 0; u < w; u++ {
				row[4*u+3] = 0xFF
			}
			continue
		}
		// OpenCV: X0 = cvRound(row term) + round_delta,
		// X = (X0 + adelta[u]) >> (AB_BITS - INTER_BITS).
		X0 := int64(math.RoundToEven(x0f)) + roundDelta
		Y0 := int64(math.RoundToEven(y0f)) + roundDelta
		for u := 0; u < w; u++ {
			p := row[4*u : 4*u+4 : 4*u+4]
			p[3] = 0xFF
			X := (X0 + cols[2*u]) >> (abBits - interBits)
			Y := (Y0 + cols[2*u+1]) >> (abBits - interBits)
			x064, y064 := X>>interBits, Y>>interBits
			if x064 >= int64(r.Max.X) || x064+1 < int64(r.Min.X) || y064 >= int64(r.Max.Y) || y064+1 < int64(r.Min.Y) {
				continue // all four neighbours outside: black
			}
			x0, y0 := int(x064), int(y064)
			fx, fy := int32(X&(interTab-1)), int32(Y&(interTab-1))
			var q [4][3]int32 // (x0,y0), (x0+1,y0), (x0,y0+1), (x0+1,y0+1)
			if x0 >= r.Min.X && x0+1 < r.Max.X && y0 >= r.Min.Y && y0+1 < r.Max.Y {
				s.Quad(x0, y0, &q)
			} else {
				q[0], q[1] = s.RGBOrBlack(x0, y0), s.RGBOrBlack(x0+1, y0)
				q[2], q[3] = s.RGBOrBlack(x0, y0+1), s.RGBOrBlack(x0+1, y0+1)
			}
			// Bilinear weights in 1/1024 (OpenCV's 15-bit table divided by 32,
			// which is exact for linear interpolation).
			w00 := (interTab - fx) * (interTab - fy)
			w10 := fx * (interTab - fy)
			w01 := (interTab - fx) * fy
			w11 := fx * fy
			for k := range 3 {
				p[k] = uint8((q[0][k]*w00 + q[1][k]*w10 + q[2][k]*w01 + q[3][k]*w11 + 1<<(2*interBits-1)) >> (2 * interBits))
			}
		}
	}
	return dst, nil
}
