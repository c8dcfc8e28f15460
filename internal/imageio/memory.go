package imageio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// Cost is what decoding one image will take, read from its header only.
type Cost struct {
	Format        Format
	Width, Height int
	// Bytes estimates the peak memory of decoding the image and of the
	// copies the pipeline makes of it: the decoded pixels at their real
	// depth (16-bit PNG samples take 2 bytes, chroma planes of a JPEG
	// their subsampled size), a progressive JPEG's coefficient buffers (4
	// bytes per sample of every component, held until the end of the
	// decode), an interlaced PNG's pass images, the RGBA copy made by an
	// EXIF reorientation, and the detector's grey working copies
	// (DetectorBytes).
	Bytes int64
}

// DetectorCopyBytes bounds what the detector adds to the live heap for one
// image at its largest: DetectorBytes of an image 1024 pixels or more on
// its long side (the detector's default MaxSide), rounded up.
const DetectorCopyBytes = 26 << 20

// Detector memory per square pixel of the working copy's long side and per
// image; see DetectorBytes.
const (
	detectorBytesPerPixel = 19
	// The fixed part covers the network workers' scratch buffers and the
	// window lists that do not shrink with the image; on a shared CI
	// machine a 200x200 faceless image peaked at 4.3 MiB.
	detectorFixedBytes = 6 << 20
)

// detectorMaxSide is detect.Options.MaxSide's default: larger images are
// area-averaged down to it before detection.
const detectorMaxSide = 1024

// DetectorBytes bounds what detecting faces in a w x h image adds to the
// live heap, beyond the decoded image, with the detector's default MaxSide:
// the grey working copy (at most 1024 px per side), its mirror, its quarter
// turns, the padded copy (about 3.2 times the working copy for a square
// image) with its mirror and in-plane rotations (the last-resort stage of
// a faceless image), the window lists, ONet's crops and the MTCNN
// proposal stage's image pyramid (also a faceless image's last stage: it
// left 1024x1024 noise at 17.8 MiB and raised 1024x120 noise from 5.2 to
// 14.3 MiB, both within the bound). The worst case is
// a faceless image, which takes every stage. It grows with the square of
// the working copy's long side L, not with its area: rotated copies span
// about L on both sides, and a narrow image is scanned from smaller
// windows (the smallest face is a fraction of the short side), so more of
// them. detect's TestDetectAllocBound fails when Detect exceeds this
// bound; detect/measurements-2026-11-30-context-memory.md has the figures
// it was set from.
func DetectorBytes(w, h int) int64 {
	long := int64(min(max(w, h, 0), detectorMaxSide))
	return detectorBytesPerPixel*long*long + detectorFixedBytes
}

// Estimate reads the header of a JPEG or PNG image and returns what decoding
// it will cost, without decoding any pixel. It applies the same checks as
// Decode's header step: ErrUnsupportedFormat, ErrCorruptImage,
// ErrImageTooLarge (opts nil = defaults).
func Estimate(data []byte, opts *Options) (Cost, error) {
	f, err := Sniff(data)
	if err != nil {
		return Cost{}, err
	}
	cfg, err := decodeConfig(data, f, opts)
	if err != nil {
		return Cost{}, err
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	px := w * h
	var pix int64
	if f == PNG {
		pix = pngBytes(data, px)
	} else {
		pix = jpegBytes(data, w, h)
		if Orientation(data) >= 2 {
			pix += 4 * px // the reoriented RGBA copy
		}
	}
	return Cost{Format: f, Width: cfg.Width, Height: cfg.Height, Bytes: pix + int64(len(data)) + DetectorBytes(cfg.Width, cfg.Height)}, nil
}

// pngBytes is the decoded size of a PNG: image/png keeps 16-bit samples as
// RGBA64/NRGBA64/Gray16 and expands RGB to 4 channels; an interlaced image
// is decoded pass by pass into images merged at the end (about twice the
// size at the peak). 16-bit images have no fast path in the detector's grey
// conversion: each pixel read through At allocates its color (8 bytes, 2
// for grey), short-lived garbage that still raises the peak, so it is
// counted too.
func pngBytes(data []byte, px int64) int64 {
	bpp := int64(16) // unknown: assume the worst
	interlaced := false
	if len(data) >= 29 && string(data[12:16]) == "IHDR" {
		depth, ct := data[24], data[25]
		interlaced = data[28] != 0
		wide := depth == 16
		switch ct {
		case 0: // grey
			bpp = 1
			if wide {
				bpp = 2 + 2
			}
		case 3: // paletted
			bpp = 1
		case 2, 4, 6: // RGB, grey+alpha, RGBA
			bpp = 4
			if wide {
				bpp = 8 + 8
			}
		}
	}
	n := bpp * px
	if interlaced {
		n *= 2
	}
	return n
}

// jpegBytes is the decoded size of a JPEG: one plane per component at its
// sampled size (a CMYK or 4:4:4 image is not subsampled), plus, for a
// progressive JPEG, a 64×int32 block per 8×8 block of every component.
func jpegBytes(data []byte, w, h int64) int64 {
	comps, progressive, ok := jpegFrame(data)
	if !ok {
		// Unknown layout: 3 full planes, plus coefficients, as the worst case.
		return 3*w*h + 12*w*h
	}
	var hmax, vmax int64 = 1, 1
	for _, c := range comps {
		hmax, vmax = max(hmax, int64(c[0])), max(vmax, int64(c[1]))
	}
	var n int64
	for _, c := range comps {
		cw := (w*int64(c[0]) + hmax - 1) / hmax
		ch := (h*int64(c[1]) + vmax - 1) / vmax
		// Planes are allocated in whole MCUs: round up to 8*factor.
		cw = (cw + 15) &^ 15
		ch = (ch + 15) &^ 15
		n += cw * ch
		if progressive {
			n += 4 * cw * ch
		}
	}
	if len(comps) == 4 {
		n += 4 * w * h // CMYK/YCCK output image
	}
	return n
}

// jpegFrame finds the start-of-frame segment: the sampling factors of each
// component and whether the frame is progressive.
func jpegFrame(data []byte) (comps [][2]byte, progressive, ok bool) {
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return nil, false, false
		}
		m := data[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil, false, false
		}
		seg := data[i+4 : i+2+n]
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			if len(seg) < 6 {
				return nil, false, false
			}
			nc := int(seg[5])
			if nc < 1 || nc > 4 || len(seg) < 6+3*nc {
				return nil, false, false
			}
			for k := range nc {
				hv := seg[6+3*k+1]
				hs, vs := hv>>4, hv&15
				if hs < 1 || vs < 1 || hs > 4 || vs > 4 {
					return nil, false, false
				}
				comps = append(comps, [2]byte{hs, vs})
			}
			return comps, m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE, true
		}
		if m == 0xDA { // scan before any frame: malformed
			return nil, false, false
		}
		i += 2 + n
	}
	return nil, false, false
}

// arithmeticCoded reports whether the JPEG's frame uses arithmetic coding
// (SOF9–SOF11, SOF13–SOF15), which image/jpeg does not implement.
func arithmeticCoded(data []byte) bool {
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return false
		}
		m := data[i+1]
		if m == 0xFF {
			i++
			continue
		}
		if m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
			i += 2
			continue
		}
		switch m {
		case 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF:
			return true
		case 0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xDA:
			return false
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 {
			return false
		}
		i += 2 + n
	}
	return false
}

// decodeConfig reads and checks the header (the checks of Decode step 2).
func decodeConfig(data []byte, f Format, opts *Options) (image.Config, error) {
	maxPixels, maxSide := opts.limits()
	// PNG's IHDR is at a fixed place: check it before image/png does, whose
	// DecodeConfig refuses very large sizes on 32-bit platforms as a format
	// error ("dimension overflow") rather than a size.
	if f == PNG && len(data) >= 24 && string(data[12:16]) == "IHDR" {
		w, h := uint64(binary.BigEndian.Uint32(data[16:])), uint64(binary.BigEndian.Uint32(data[20:]))
		if w > uint64(maxSide) || h > uint64(maxSide) || w*h > uint64(maxPixels) {
			return image.Config{}, fmt.Errorf("%w: %dx%d (limits: %d pixels, %d per side)", ErrImageTooLarge, w, h, maxPixels, maxSide)
		}
	}
	if f == JPEG && arithmeticCoded(data) {
		return image.Config{}, fmt.Errorf("%w: arithmetic-coded JPEG (only Huffman-coded JPEGs are supported)", ErrUnsupportedFormat)
	}
	var cfg image.Config
	err := protect(func() (err error) {
		if f == JPEG {
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		} else {
			cfg, err = png.DecodeConfig(bytes.NewReader(data))
		}
		return err
	})
	if err != nil {
		if u := (jpeg.UnsupportedError("")); errors.As(err, &u) {
			return image.Config{}, fmt.Errorf("%w: %s: %v", ErrUnsupportedFormat, f, err)
		}
		return image.Config{}, fmt.Errorf("%w: %s header: %v", ErrCorruptImage, f, err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return image.Config{}, fmt.Errorf("%w: %s header gives %dx%d pixels", ErrCorruptImage, f, w, h)
	}
	if w > maxSide || h > maxSide || w*h > maxPixels {
		return image.Config{}, fmt.Errorf("%w: %dx%d (limits: %d pixels, %d per side)", ErrImageTooLarge, w, h, maxPixels, maxSide)
	}
	return cfg, nil
}

// ctxReader stops a decoder soon after ctx is done: the decoders read their
// input in small chunks, so the check runs often.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > 32<<10 {
		p = p[:32<<10]
	}
	return c.r.Read(p)
}
