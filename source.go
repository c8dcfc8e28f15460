package facematch

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"time"

	"github.com/facematch/facematch/internal/fetch"
	"github.com/facematch/facematch/internal/imageio"
)

// Source is where an image comes from: Bytes, Reader, File, URL or Image.
// Any mix can be passed to Compare. A Source is a description, not an open
// handle: except for Reader, it can be used any number of times.
type Source interface {
	// load returns the decoded image (EXIF orientation applied).
	load(ctx context.Context, m *Matcher) (image.Image, error)
	// String describes the source for messages, without its content.
	String() string
}

// Bytes is an encoded JPEG or PNG image held in memory. The slice is not
// modified or retained after the call that uses it.
func Bytes(b []byte) Source { return bytesSource(b) }

// Reader is an encoded JPEG or PNG image read to EOF (at most
// Options.MaxImageBytes; more is ErrTooLarge, detected while reading). A
// Reader source can be used once.
func Reader(r io.Reader) Source { return readerSource{r} }

// File is an encoded JPEG or PNG image in a file. Files larger than
// Options.MaxImageBytes are refused before they are read.
func File(path string) Source { return fileSource(path) }

// URL is an encoded JPEG or PNG image fetched with HTTP GET from an http or
// https URL, subject to Options.FetchTimeout, Options.MaxImageBytes, at most
// 3 redirects and, unless Options.AllowPrivateURLs, a check of every
// address connected to (see Options.AllowPrivateURLs).
func URL(rawURL string) Source { return urlSource(rawURL) }

// Image is an already decoded image. It is used as is (no orientation
// change), within the same size limits as encoded images: more than
// Options.MaxPixels pixels, or a side over 30000, is ErrImageTooLarge,
// decided from Bounds alone.
func Image(img image.Image) Source { return imageSource{img} }

type bytesSource []byte

func (s bytesSource) load(ctx context.Context, m *Matcher) (image.Image, error) {
	if int64(len(s)) > m.maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(s), m.maxBytes)
	}
	return m.decode(ctx, s)
}

func (s bytesSource) String() string { return fmt.Sprintf("%d bytes", len(s)) }

type readerSource struct{ r io.Reader }

func (s readerSource) load(ctx context.Context, m *Matcher) (image.Image, error) {
	if s.r == nil {
		return nil, ErrNilSource
	}
	b, err := fetch.ReadAll(s.r, m.maxBytes)
	if err != nil {
		return nil, err
	}
	return m.decode(ctx, b)
}

func (s readerSource) String() string { return "reader" }

type fileSource string

func (s fileSource) load(ctx context.Context, m *Matcher) (image.Image, error) {
	b, err := fetch.File(string(s), m.maxBytes)
	if err != nil {
		return nil, err
	}
	img, err := m.decode(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", string(s), err)
	}
	return img, nil
}

func (s fileSource) String() string { return string(s) }

type urlSource string

func (s urlSource) load(ctx context.Context, m *Matcher) (image.Image, error) {
	b, err := m.Fetch(ctx, string(s))
	if err != nil {
		return nil, err
	}
	return m.decode(ctx, b)
}

// String is the URL without userinfo, query or fragment (pre-signed URLs
// carry their signature in the query).
func (s urlSource) String() string {
	if u, err := fetch.ParseURL(string(s)); err == nil {
		return fetch.Safe(u)
	}
	return "URL"
}

type imageSource struct{ img image.Image }

func (s imageSource) load(_ context.Context, m *Matcher) (image.Image, error) {
	if s.img == nil {
		return nil, ErrNilSource
	}
	b := s.img.Bounds()
	w, h := int64(b.Dx()), int64(b.Dy())
	maxPixels := int64(imageio.DefaultMaxPixels)
	if m.decodeOpts.MaxPixels > 0 {
		maxPixels = int64(m.decodeOpts.MaxPixels)
	}
	if w > imageio.DefaultMaxSide || h > imageio.DefaultMaxSide || w*h > maxPixels {
		return nil, fmt.Errorf("%w: image.Image of %dx%d (limits: %d pixels, %d per side)", ErrImageTooLarge, w, h, maxPixels, imageio.DefaultMaxSide)
	}
	return s.img, nil
}

func (s imageSource) String() string { return "image" }

func (m *Matcher) decode(ctx context.Context, b []byte) (image.Image, error) {
	start := time.Now()
	img, _, err := imageio.DecodeContext(ctx, b, &m.decodeOpts)
	m.observe(StageDecode, start)
	return img, err
}

// Stages reported to Options.StageObserver.
const (
	StageFetch  = "fetch"
	StageDecode = "decode"
	StageDetect = "detect"
	StageEmbed  = "embed"
)

func (m *Matcher) observe(stage string, start time.Time) {
	if m.observer != nil {
		m.observer(stage, time.Since(start))
	}
}

// Fetch downloads an image URL with the Matcher's URL policy (the checks,
// limits and timeout that a URL source gets) and returns its bytes,
// undecoded. A service calls it to fetch before it queues for the CPU,
// then passes Bytes to Compare.
func (m *Matcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	start := time.Now()
	b, err := m.fetcher.Get(ctx, rawURL)
	m.observe(StageFetch, start)
	return b, err
}

// DecodeCost estimates, from its header only, the peak memory in bytes of
// decoding an encoded image and of the pipeline's copies of it (see
// Options.MaxPixels for the limits applied). It returns the errors decoding
// would return for an unsupported, corrupt or too large header. A service
// charges the cost to a memory budget before calling Compare.
func (m *Matcher) DecodeCost(b []byte) (int64, error) {
	c, err := imageio.Estimate(b, &m.decodeOpts)
	return c.Bytes, err
}

// ErrSharedReader: the same Reader source (the same io.Reader) is given as
// both images of Compare; a Reader can be read once, so the second image
// would see what the first left.
var ErrSharedReader = errors.New("the same Reader is given for both images")

// sharedReader reports whether a and b are Reader sources over the same
// io.Reader.
func sharedReader(a, b Source) (shared bool) {
	ra, ok1 := a.(readerSource)
	rb, ok2 := b.(readerSource)
	if !ok1 || !ok2 || ra.r == nil || rb.r == nil {
		return false
	}
	defer func() {
		if recover() != nil { // incomparable dynamic type: cannot be the same value
			shared = false
		}
	}()
	return ra.r == rb.r
}
