package sample

import (
	"image"
	"image/color"
)

// RGBRow writes the colours of the len(dst)/3 pixels starting at (x, y)
// into dst, three bytes (R, G, B) per pixel, black outside the image.
func (s *Source) RGBRow(x, y int, dst []uint8) {
	n := len(dst) / 3
	if y < s.r.Min.Y || y >= s.r.Max.Y {
		clear(dst[:3*n])
		return
	}
	i := 0
	for ; i < n && x+i < s.r.Min.X; i++ {
		dst[3*i], dst[3*i+1], dst[3*i+2] = 0, 0, 0
	}
	in := max(min(n, s.r.Max.X-x), i) // pixels [i, in) are inside
	if s.rgba != nil && in > i {
		off := s.rgba.PixOffset(x+i, y)
		src := s.rgba.Pix[off : off+4*(in-i)]
		for k := range in - i {
			p := src[4*k : 4*k+3 : 4*k+3]
			d := dst[3*(i+k) : 3*(i+k)+3 : 3*(i+k)+3]
			d[0], d[1], d[2] = p[0], p[1], p[2]
		}
		i = in
	}
	for ; i < in; i++ {
		c := s.RGB(x+i, y)
		dst[3*i], dst[3*i+1], dst[3*i+2] = uint8(c[0]), uint8(c[1]), uint8(c[2])
	}
	clear(dst[3*i : 3*n])
}

// luma returns the ITU-R BT.601 luma of 8-bit R, G, B (the weights of
// image/color's GrayModel), rounded.
func luma(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
}

// GrayRow writes the luma of the len(dst) pixels starting at the left edge
// of row y into dst, which must not be longer than the image is wide (y
// must be inside the image). It is color.GrayModel's luma of the colour
// composited over black; a YCbCr image's Y plane is that luma already.
func (s *Source) GrayRow(y int, dst []uint8) {
	x0 := s.r.Min.X
	w := len(dst)
	switch {
	case s.ycc != nil:
		off := s.ycc.YOffset(x0, y)
		copy(dst, s.ycc.Y[off:off+w])
	case s.gray != nil:
		off := s.gray.PixOffset(x0, y)
		copy(dst, s.gray.Pix[off:off+w])
	case s.rgba != nil:
		off := s.rgba.PixOffset(x0, y)
		src := s.rgba.Pix[off : off+4*w : off+4*w]
		for x := range dst {
			p := src[4*x : 4*x+3 : 4*x+3]
			dst[x] = luma(uint32(p[0]), uint32(p[1]), uint32(p[2]))
		}
	case s.nrgba != nil:
		off := s.nrgba.PixOffset(x0, y)
		src := s.nrgba.Pix[off : off+4*w : off+4*w]
		for x := range dst {
			p := src[4*x : 4*x+4 : 4*x+4]
			l := uint32(luma(uint32(p[0]), uint32(p[1]), uint32(p[2])))
			if a := uint32(p[3]); a != 0xff {
				l = (l*a + 127) / 255
			}
			dst[x] = uint8(l)
		}
	default:
		for x := range dst {
			c := color.Gray16Model.Convert(s.img.At(x0+x, y)).(color.Gray16)
			dst[x] = uint8(c.Y >> 8)
		}
	}
}

// Patch is an RGB copy of a rectangle of an image, for samplers that read
// each pixel many times (a network's crop downscaling a small face): each
// pixel is converted (from YCbCr, say) once.
type Patch struct {
	r   image.Rectangle
	pix []uint8 // 3 per pixel, row-major over r
}

// Fill copies the part of r inside s's image into p, reusing p's memory.
func (p *Patch) Fill(s *Source, r image.Rectangle) {
	r = r.Intersect(s.r)
	p.r = r
	n := 3 * r.Dx() * r.Dy()
	if cap(p.pix) < n {
		p.pix = make([]uint8, n)
	}
	p.pix = p.pix[:n]
	row := 3 * r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		s.RGBRow(r.Min.X, y, p.pix[(y-r.Min.Y)*row:(y-r.Min.Y+1)*row])
	}
}

// Bounds returns the rectangle the patch holds.
func (p *Patch) Bounds() image.Rectangle { return p.r }
