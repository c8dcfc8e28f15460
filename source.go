package facematch

import (
	"context"
	"fmt"
	"image"
	"io"

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

// Image is an already decoded image. It is used as is (no size limit, no
// orientation change).
func Image(img image.Image) Source { return imageSource{img} }

type bytesSource []byte

func (s bytesSource) load(_ context.Context, m *Matcher) (image.Image, error) {
	if int64(len(s)) > m.maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(s), m.maxBytes)
	}
	return m.decode(s)
}

func (s bytesSource) String() string { return fmt.Sprintf("%d bytes", len(s)) }

type readerSource struct{ r io.Reader }

func (s readerSource) load(_ context.Context, m *Matcher) (image.Image, error) {
	if s.r == nil {
		return nil, ErrNilSource
	}
	b, err := fetch.ReadAll(s.r, m.maxBytes)
	if err != nil {
		return nil, err
	}
	return m.decode(b)
}

func (s readerSource) String() string { return "reader" }

type fileSource string

func (s fileSource) load(_ context.Context, m *Matcher) (image.Image, error) {
	b, err := fetch.File(string(s), m.maxBytes)
	if err != nil {
		return nil, err
	}
	img, err := m.decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", string(s), err)
	}
	return img, nil
}

func (s fileSource) String() string { return string(s) }

type urlSource string

func (s urlSource) load(ctx context.Context, m *Matcher) (image.Image, error) {
	b, err := m.fetcher.Get(ctx, string(s))
	if err != nil {
		return nil, err
	}
	return m.decode(b)
}

func (s urlSource) String() string {
	if u, err := fetch.ParseURL(string(s)); err == nil {
		return u.Redacted()
	}
	return "URL"
}

type imageSource struct{ img image.Image }

func (s imageSource) load(context.Context, *Matcher) (image.Image, error) {
	if s.img == nil {
		return nil, ErrNilSource
	}
	return s.img, nil
}

func (s imageSource) String() string { return "image" }

func (m *Matcher) decode(b []byte) (image.Image, error) {
	img, _, err := imageio.Decode(b, &m.decodeOpts)
	return img, err
}
