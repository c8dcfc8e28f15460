package imageio

import (
	"image"
	"image/color"
)

// Orient returns img transformed for display according to EXIF orientation o
// (1..8; see the package documentation). Orientation 1 and out-of-range
// values return img itself. Otherwise a new image with Bounds().Min == (0, 0)
// is returned: *image.Gray when img is *image.Gray, else *image.RGBA (with
// the colours of img converted by color.RGBAModel, exact for opaque images).
// For o in 5..8 width and height are swapped.
func Orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// The destination pixel index of source pixel (sx, sy), counted from
	// b.Min, is base + sx*ax + sy*ay.
	var base, ax, ay int
	switch o {
	case 2: // mirror horizontally
		base, ax, ay = w-1, -1, dw
	case 3: // rotate 180
		base, ax, ay = (h-1)*dw+w-1, -1, -dw
	case 4: // mirror vertically
		base, ax, ay = (h-1)*dw, 1, -dw
	case 5: // transpose
		base, ax, ay = 0, dw, 1
	case 6: // rotate 90 clockwise
		base, ax, ay = h-1, dw, -1
	case 7: // transverse
		base, ax, ay = (w-1)*dw+h-1, -dw, -1
	case 8: // rotate 90 counter-clockwise
		base, ax, ay = (w-1)*dw, -dw, 1
	}
	if w == 0 || h == 0 {
		return image.NewRGBA(image.Rect(0, 0, dw, dh))
	}

	if src, ok := img.(*image.Gray); ok {
		dst := image.NewGray(image.Rect(0, 0, dw, dh))
		for sy := 0; sy < h; sy++ {
			row := src.Pix[sy*src.Stride : sy*src.Stride+w]
			d := base + sy*ay
			for _, v := range row {
				dst.Pix[d] = v
				d += ax
			}
		}
		return dst
	}

	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	px := dst.Pix
	switch src := img.(type) {
	case *image.YCbCr:
		hs, vs, ok := ChromaShifts(src.SubsampleRatio)
		if !ok || src.Rect.Min.X < 0 || src.Rect.Min.Y < 0 { // shifts round like COffset only for x, y >= 0
			orientGeneric(img, px, base, ax, ay)
			break
		}
		for sy := 0; sy < h; sy++ {
			y := b.Min.Y + sy
			yrow := src.Y[src.YOffset(b.Min.X, y):]
			crow := (y>>vs - src.Rect.Min.Y>>vs) * src.CStride
			cb, cr := src.Cb[crow:], src.Cr[crow:]
			d := base + sy*ay
			for sx := 0; sx < w; sx++ {
				ci := (b.Min.X+sx)>>hs - src.Rect.Min.X>>hs
				r, g, bl := color.YCbCrToRGB(yrow[sx], cb[ci], cr[ci])
				p := px[4*d : 4*d+4 : 4*d+4]
				p[0], p[1], p[2], p[3] = r, g, bl, 0xFF
				d += ax
			}
		}
	case *image.RGBA:
		for sy := 0; sy < h; sy++ {
			o := src.PixOffset(b.Min.X, b.Min.Y+sy)
			row := src.Pix[o : o+4*w]
			d := base + sy*ay
			for sx := 0; sx < w; sx++ {
				copy(px[4*d:4*d+4], row[4*sx:4*sx+4])
				d += ax
			}
		}
	default:
		orientGeneric(img, px, base, ax, ay)
	}
	return dst
}

// orientGeneric is Orient's path for any image type, through At.
func orientGeneric(img image.Image, px []uint8, base, ax, ay int) {
	b := img.Bounds()
	for sy := 0; sy < b.Dy(); sy++ {
		d := base + sy*ay
		for sx := 0; sx < b.Dx(); sx++ {
			c := color.RGBAModel.Convert(img.At(b.Min.X+sx, b.Min.Y+sy)).(color.RGBA)
			p := px[4*d : 4*d+4 : 4*d+4]
			p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
			d += ax
		}
	}
}

// ChromaShifts returns log2 of the horizontal and vertical chroma
// subsampling factors of r, as image.YCbCr.COffset uses them (for
// coordinates >= 0, where shifting and dividing agree); ok is false for an
// unknown ratio.
func ChromaShifts(r image.YCbCrSubsampleRatio) (hs, vs int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 0, 0, true
	case image.YCbCrSubsampleRatio422:
		return 1, 0, true
	case image.YCbCrSubsampleRatio420:
		return 1, 1, true
	case image.YCbCrSubsampleRatio440:
		return 0, 1, true
	case image.YCbCrSubsampleRatio411:
		return 2, 0, true
	case image.YCbCrSubsampleRatio410:
		return 2, 1, true
	}
	return 0, 0, false
}
