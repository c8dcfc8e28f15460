package imageio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// Errors returned by Sniff and Decode (wrapped with detail; use errors.Is).
var (
	// ErrUnsupportedFormat: the content is not JPEG or PNG.
	ErrUnsupportedFormat = errors.New("unsupported image format (only JPEG and PNG are accepted)")
	// ErrImageTooLarge: the header announces more pixels than allowed (a
	// possible decompression bomb); nothing was decoded.
	ErrImageTooLarge = errors.New("image dimensions too large")
	// ErrCorruptImage: empty, truncated or malformed image data.
	ErrCorruptImage = errors.New("corrupt or truncated image")
)

// Format is the container format found by Sniff.
type Format string

// Formats that Decode accepts.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
)

// Limits used when Options or its fields are zero.
const (
	// DefaultMaxPixels is the largest width*height decoded: 40 megapixels,
	// above any phone camera in common use (a 40 MP RGBA image is 160 MB).
	DefaultMaxPixels = 40_000_000
	// DefaultMaxSide is the longest width or height accepted, whatever the
	// pixel count (refuses absurd 1xN strips).
	DefaultMaxSide = 30000
)

// Options limit what Decode accepts. A nil *Options or zero field means the
// default.
type Options struct {
	// MaxPixels is the largest width*height accepted (DefaultMaxPixels).
	MaxPixels int
	// MaxSide is the largest width or height accepted (DefaultMaxSide).
	MaxSide int
}

func (o *Options) limits() (maxPixels, maxSide int64) {
	maxPixels, maxSide = DefaultMaxPixels, DefaultMaxSide
	if o != nil {
		if o.MaxPixels > 0 {
			maxPixels = int64(o.MaxPixels)
		}
		if o.MaxSide > 0 {
			maxSide = int64(o.MaxSide)
		}
	}
	return maxPixels, maxSide
}

var (
	sigJPEG = []byte{0xFF, 0xD8, 0xFF}
	sigPNG  = []byte("\x89PNG\r\n\x1a\n")
)

// known signatures of formats that are refused, to name them in the error.
var otherFormats = []struct {
	sig  string
	name string
}{
	{"GIF87a", "GIF"}, {"GIF89a", "GIF"},
	{"BM", "BMP"},
	{"II*\x00", "TIFF"}, {"MM\x00*", "TIFF"},
	{"\x00\x00\x01\x00", "ICO"},
	{"%PDF", "PDF"},
	{"\xFF\x0A", "JPEG XL"}, {"\x00\x00\x00\x0CJXL ", "JPEG XL"},
}

// Sniff tells the format from the first bytes of a file (8 bytes are enough).
// It returns ErrCorruptImage for empty input or input that stops inside a
// JPEG or PNG signature, and ErrUnsupportedFormat for anything else that is
// not JPEG or PNG.
func Sniff(head []byte) (Format, error) {
	if len(head) == 0 {
		return "", fmt.Errorf("%w: no data (0 bytes)", ErrCorruptImage)
	}
	switch {
	case bytes.HasPrefix(head, sigJPEG):
		return JPEG, nil
	case bytes.HasPrefix(head, sigPNG):
		return PNG, nil
	case bytes.HasPrefix(sigJPEG, head) || bytes.HasPrefix(sigPNG, head):
		return "", fmt.Errorf("%w: %d bytes, ends inside the file signature", ErrCorruptImage, len(head))
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP" {
		return "", fmt.Errorf("%w: WebP", ErrUnsupportedFormat)
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		return "", fmt.Errorf("%w: ISO media (HEIC/AVIF)", ErrUnsupportedFormat)
	}
	for _, f := range otherFormats {
		if bytes.HasPrefix(head, []byte(f.sig)) {
			return "", fmt.Errorf("%w: %s", ErrUnsupportedFormat, f.name)
		}
	}
	return "", ErrUnsupportedFormat
}

// Decode decodes a JPEG or PNG image held in data, after checking its
// dimensions against opts (nil = defaults), and applies the EXIF orientation
// of JPEGs. See the package documentation for the steps and returned types.
func Decode(data []byte, opts *Options) (img image.Image, f Format, err error) {
	return DecodeContext(context.Background(), data, opts)
}

// DecodeContext is Decode stopped early when ctx is done: the decoder's
// input is cut, so it returns ctx.Err() (wrapped) soon after. Pixel work
// that follows the last read (a progressive JPEG's final conversion) is not
// interrupted.
func DecodeContext(ctx context.Context, data []byte, opts *Options) (img image.Image, f Format, err error) {
	f, err = Sniff(data)
	if err != nil {
		return nil, "", err
	}
	cfg, err := decodeConfig(data, f, opts)
	if err != nil {
		return nil, "", err
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	r := ctxReader{ctx, bytes.NewReader(data)}
	err = protect(func() (err error) {
		if f == JPEG {
			img, err = jpeg.Decode(r)
		} else {
			img, err = png.Decode(r)
		}
		return err
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, "", cerr
		}
		if u := (jpeg.UnsupportedError("")); errors.As(err, &u) {
			return nil, "", fmt.Errorf("%w: %s: %v", ErrUnsupportedFormat, f, err)
		}
		return nil, "", fmt.Errorf("%w: %s: %v", ErrCorruptImage, f, err)
	}
	if b := img.Bounds(); int64(b.Dx()) != w || int64(b.Dy()) != h {
		return nil, "", fmt.Errorf("%w: %s decoded to %v, header said %dx%d", ErrCorruptImage, f, b, w, h)
	}
	if f == JPEG {
		if o := Orientation(data); o != 1 {
			img = Orient(img, o)
		}
	}
	return img, f, nil
}

// protect runs fn and turns a panic into an error.
func protect(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return fn()
}
