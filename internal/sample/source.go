package sample

import (
	"image"
	"image/color"

	"github.com/facematch/facematch/internal/imageio"
)

// Source reads 8-bit RGB (composited over black) from an image. It holds
// no pixels of its own; make one per image and reuse it for every read.
type Source struct {
	r   image.Rectangle
	ycc *image.YCbCr
	// cshift: chroma indices of ycc by shifts hs, vs (known ratio, Min >= 0)
	cshift bool
	hs, vs int
	rgba   *image.RGBA
	nrgba  *image.NRGBA
	gray   *image.Gray
	img    image.Image
}

// New returns a Source reading img.
func New(img image.Image) *Source {
	s := &Source{r: img.Bounds()}
	switch m := img.(type) {
	case *image.YCbCr:
		s.ycc = m
		if m.Rect.Min.X >= 0 && m.Rect.Min.Y >= 0 {
			s.hs, s.vs, s.cshift = imageio.ChromaShifts(m.SubsampleRatio)
		}
	case *image.RGBA:
		s.rgba = m
	case *image.NRGBA:
		s.nrgba = m
	case *image.Gray:
		s.gray = m
	default:
		s.img = img
	}
	return s
}

// Bounds returns the image's bounds.
func (s *Source) Bounds() image.Rectangle { return s.r }

// RGBOrBlack returns the colour of pixel (x, y), black outside the image.
func (s *Source) RGBOrBlack(x, y int) [3]int32 {
	if x < s.r.Min.X || x >= s.r.Max.X || y < s.r.Min.Y || y >= s.r.Max.Y {
		return [3]int32{}
	}
	return s.RGB(x, y)
}

// Quad sets q to the colours of (x, y), (x+1, y), (x, y+1), (x+1, y+1),
// which must all be inside the image.
func (s *Source) Quad(x, y int, q *[4][3]int32) {
	switch {
	case s.rgba != nil:
		m := s.rgba
		i := m.PixOffset(x, y)
		a := m.Pix[i : i+8 : i+8]
		b := m.Pix[i+m.Stride : i+m.Stride+8 : i+m.Stride+8]
		*q = [4][3]int32{
			{int32(a[0]), int32(a[1]), int32(a[2])}, {int32(a[4]), int32(a[5]), int32(a[6])},
			{int32(b[0]), int32(b[1]), int32(b[2])}, {int32(b[4]), int32(b[5]), int32(b[6])},
		}
	case s.gray != nil:
		m := s.gray
		i := m.PixOffset(x, y)
		a := m.Pix[i : i+2 : i+2]
		b := m.Pix[i+m.Stride : i+m.Stride+2 : i+m.Stride+2]
		v0, v1, v2, v3 := int32(a[0]), int32(a[1]), int32(b[0]), int32(b[1])
		*q = [4][3]int32{{v0, v0, v0}, {v1, v1, v1}, {v2, v2, v2}, {v3, v3, v3}}
	case s.ycc != nil && s.cshift:
		m := s.ycc
		yi := (y-m.Rect.Min.Y)*m.YStride + (x - m.Rect.Min.X)
		ya := m.Y[yi : yi+2 : yi+2]
		yb := m.Y[yi+m.YStride : yi+m.YStride+2 : yi+m.YStride+2]
		cx0, cx1 := x>>s.hs-m.Rect.Min.X>>s.hs, (x+1)>>s.hs-m.Rect.Min.X>>s.hs
		cy0, cy1 := (y>>s.vs-m.Rect.Min.Y>>s.vs)*m.CStride, ((y+1)>>s.vs-m.Rect.Min.Y>>s.vs)*m.CStride
		q[0] = ycc(ya[0], m.Cb[cy0+cx0], m.Cr[cy0+cx0])
		q[1] = ycc(ya[1], m.Cb[cy0+cx1], m.Cr[cy0+cx1])
		q[2] = ycc(yb[0], m.Cb[cy1+cx0], m.Cr[cy1+cx0])
		q[3] = ycc(yb[1], m.Cb[cy1+cx1], m.Cr[cy1+cx1])
	default:
		q[0], q[1] = s.RGB(x, y), s.RGB(x+1, y)
		q[2], q[3] = s.RGB(x, y+1), s.RGB(x+1, y+1)
	}
}

func ycc(y, cb, cr uint8) [3]int32 {
	r, g, b := color.YCbCrToRGB(y, cb, cr)
	return [3]int32{int32(r), int32(g), int32(b)}
}

// RGB returns the colour of pixel (x, y), which must be inside the image.
func (s *Source) RGB(x, y int) [3]int32 {
	switch {
	case s.ycc != nil:
		m := s.ycc
		yi := (y-m.Rect.Min.Y)*m.YStride + (x - m.Rect.Min.X)
		ci := m.COffset(x, y)
		r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
		return [3]int32{int32(r), int32(g), int32(b)}
	case s.rgba != nil:
		i := s.rgba.PixOffset(x, y)
		p := s.rgba.Pix[i : i+3 : i+3]
		return [3]int32{int32(p[0]), int32(p[1]), int32(p[2])}
	case s.gray != nil:
		v := int32(s.gray.Pix[s.gray.PixOffset(x, y)])
		return [3]int32{v, v, v}
	case s.nrgba != nil:
		i := s.nrgba.PixOffset(x, y)
		p := s.nrgba.Pix[i : i+4 : i+4]
		if p[3] == 0xFF {
			return [3]int32{int32(p[0]), int32(p[1]), int32(p[2])}
		}
		r, g, b, _ := color.NRGBA{p[0], p[1], p[2], p[3]}.RGBA()
		return [3]int32{int32(r >> 8), int32(g >> 8), int32(b >> 8)}
	default:
		r, g, b, _ := s.img.At(x, y).RGBA()
		return [3]int32{int32(r >> 8), int32(g >> 8), int32(b >> 8)}
	}
}
