package liveness

import (
	"image"
	"image/color"
	"math"
)

// CropBox is minivision's crop rule (CropImage._get_new_box in
// Silent-Face-Anti-Spoofing): the face box (x, y, width, height in pixels of
// an image of size w x h) grown scale times around its centre — less if the
// image is too small for it — then shifted, not shrunk, to stay inside the
// image. The result is the inclusive pixel range [x0, x1] x [y0, y1] the
// patch is resized from, truncated to integers as the original does.
func CropBox(w, h int, x, y, bw, bh, scale float64) (x0, y0, x1, y1 int) {
	scale = math.Min(math.Min((float64(h)-1)/bh, (float64(w)-1)/bw), scale)
	nw, nh := bw*scale, bh*scale
	cx, cy := x+bw/2, y+bh/2
	l, t, r, b := cx-nw/2, cy-nh/2, cx+nw/2, cy+nh/2
	if l < 0 {
		r -= l
		l = 0
	}
	if t < 0 {
		b -= t
		t = 0
	}
	if r > float64(w-1) {
		l -= r - float64(w-1)
		r = float64(w - 1)
	}
	if b > float64(h-1) {
		t -= b - float64(h-1)
		b = float64(h - 1)
	}
	// int() in Python truncates toward zero.
	return int(l), int(t), int(r), int(b)
}

// resizeCoefBits is OpenCV's INTER_RESIZE_COEF_BITS: bilinear weights of
// 8-bit images are fixed point with 11 fractional bits.
const resizeCoefBits = 11

// taps returns, for each of n output samples over a source range of m
// pixels starting at off, the two source indices and their fixed-point
// weights, as OpenCV's INTER_LINEAR resize computes them (pixel centres
// aligned, edges clamped).
func taps(n, m, off int) (idx [][2]int, wt [][2]int32) {
	idx, wt = make([][2]int, n), make([][2]int32, n)
	scale := float64(m) / float64(n)
	one := float64(int(1) << resizeCoefBits)
	for d := range n {
		f := (float64(d)+0.5)*scale - 0.5
		s := int(math.Floor(f))
		f -= float64(s)
		if s < 0 {
			s, f = 0, 0
		}
		if s >= m-1 {
			s, f = m-1, 0
		}
		w0 := int32(math.Round((1 - f) * one)) // saturate_cast<short> rounds to nearest
		s1 := min(s+1, m-1)
		idx[d] = [2]int{off + s, off + s1}
		wt[d] = [2]int32{w0, int32(one) - w0}
	}
	return idx, wt
}

// Patch cuts the inclusive pixel range [x0, x1] x [y0, y1] of img (in
// img.Bounds() coordinates relative to its Min) and resizes it to
// PatchSize x PatchSize with OpenCV's 8-bit bilinear resize, returning the
// network input: float32 B, G, R planes (C, H, W order) of 0-255 values.
// The range must lie inside the image.
func Patch(img image.Image, x0, y0, x1, y1 int) []float32 {
	out := make([]float32, 3*PatchSize*PatchSize)
	origin := img.Bounds().Min
	xi, xw := taps(PatchSize, x1-x0+1, x0)
	yi, yw := taps(PatchSize, y1-y0+1, y0)
	px := pixelReader(img)
	const plane = PatchSize * PatchSize
	for dy := range PatchSize {
		for dx := range PatchSize {
			var rows [3][2]int64
			for j := range 2 {
				var row [3]int64
				for i := range 2 {
					r, g, b := px(origin.X+xi[dx][i], origin.Y+yi[dy][j])
					w := int64(xw[dx][i])
					row[0] += int64(b) * w
					row[1] += int64(g) * w
					row[2] += int64(r) * w
				}
				for c := range 3 {
					rows[c][j] = row[c]
				}
			}
			for c := range 3 {
				v := vround(rows[c], yw[dy])
				out[c*plane+dy*PatchSize+dx] = float32(max(0, min(255, v)))
			}
		}
	}
	return out
}

// pixelReader returns a fast 8-bit RGB accessor for the image types the
// decoders produce and a generic one for the rest.
func pixelReader(img image.Image) func(x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *image.YCbCr:
		if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return fancy420(m)
		}
		return func(x, y int) (uint8, uint8, uint8) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			return ycc(m.Y[yi], int32(m.Cb[ci]), int32(m.Cr[ci]))
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			i := m.PixOffset(x, y)
			return m.Pix[i], m.Pix[i+1], m.Pix[i+2]
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		// Alpha is ignored as OpenCV's imread does (it drops it).
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		return c.R, c.G, c.B
	}
}

// vround is OpenCV's vertical bilinear pass on two horizontally
// interpolated rows (values scaled by 2^11) with weights b (summing to
// 2^11), as its vectorised 8-bit path computes it — the path opencv-python
// runs on x86 and ARM: each row is pre-shifted by 4 and multiplied keeping
// the high 16 bits. It differs from exact rounding by one level now and
// then, which is enough to move MiniFASNet's softmax by 1e-2; with it the
// PNG golden patch is bit-identical.
func vround(s [2]int64, b [2]int32) int64 {
	return ((((s[0] >> 4) * int64(b[0])) >> 16) + (((s[1] >> 4) * int64(b[1])) >> 16) + 2) >> 2
}

// fancy420 reads a 4:2:0 JPEG the way libjpeg(-turbo) does by default, as
// OpenCV's imread does: chroma upsampled with its "fancy" triangular filter
// (3/4 of the nearer chroma sample, 1/4 of the next, in each direction,
// with its rounding), where image/jpeg's YCbCr.At repeats each chroma
// sample. The networks were fed such pixels; this halves the difference in
// the patch.
func fancy420(m *image.YCbCr) func(x, y int) (uint8, uint8, uint8) {
	r := m.Rect
	cw, ch := (r.Max.X+1)/2-r.Min.X/2, (r.Max.Y+1)/2-r.Min.Y/2
	return func(x, y int) (uint8, uint8, uint8) {
		yv := m.Y[m.YOffset(x, y)]
		// Chroma sample coordinates relative to the plane's first sample.
		cx, cy := x/2-r.Min.X/2, y/2-r.Min.Y/2
		ny := cy - 1 // upper output row of a pair: the row above
		if y%2 == 1 {
			ny = cy + 1
		}
		ny = max(0, min(ch-1, ny))
		colsum := func(p []uint8, c int) int32 {
			return 3*int32(p[cy*m.CStride+c]) + int32(p[ny*m.CStride+c])
		}
		up := func(p []uint8) int32 {
			t := colsum(p, cx)
			if x%2 == 0 {
				if cx == 0 {
					return (4*t + 8) >> 4
				}
				return (3*t + colsum(p, cx-1) + 8) >> 4
			}
			if cx == cw-1 {
				return (4*t + 7) >> 4
			}
			return (3*t + colsum(p, cx+1) + 7) >> 4
		}
		return ycc(yv, up(m.Cb), up(m.Cr))
	}
}

// ycc converts like libjpeg's jdcolor.c: 16-bit fixed point, rounded.
func ycc(y uint8, cb, cr int32) (uint8, uint8, uint8) {
	const (
		half = 1 << 15
		crR  = 91881  // FIX(1.40200)
		cbB  = 116130 // FIX(1.77200)
		crG  = 46802  // FIX(0.71414)
		cbG  = 22554  // FIX(0.34414)
	)
	cb -= 128
	cr -= 128
	yy := int32(y)
	clamp := func(v int32) uint8 { return uint8(max(0, min(255, v))) }
	return clamp(yy + (crR*cr+half)>>16), clamp(yy + (-cbG*cb-crG*cr+half)>>16), clamp(yy + (cbB*cb+half)>>16)
}
