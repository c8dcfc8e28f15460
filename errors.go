package facematch

import (
	"errors"
	"fmt"

	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/internal/fetch"
	"github.com/facematch/facematch/internal/imageio"
)

// Errors a caller can cause. Every error the package returns wraps one of
// these (or a standard one such as fs.ErrNotExist or context.Canceled) so
// errors.Is identifies it; doc.go has the table.
var (
	// ErrUnsupportedFormat: the image content is neither JPEG nor PNG
	// (sniffed from the bytes, whatever the file name or Content-Type).
	ErrUnsupportedFormat = imageio.ErrUnsupportedFormat
	// ErrTooLarge: more than Options.MaxImageBytes (default 6 MB) of image
	// data; refused while reading, without buffering the rest.
	ErrTooLarge = fetch.ErrTooLarge
	// ErrImageTooLarge: the image header announces too many pixels (a
	// decompression bomb); refused before decoding.
	ErrImageTooLarge = imageio.ErrImageTooLarge
	// ErrCorruptImage: empty, truncated or undecodable image data.
	ErrCorruptImage = imageio.ErrCorruptImage
	// ErrNoFace: no usable face was found in an image (the ImageError says
	// which).
	ErrNoFace = errors.New("no face found")
	// ErrMultipleFaces: CompareOptions.RequireSingleFace was set and
	// image2 holds a competing face (another face at least
	// CompetingFaceRatio as wide as its largest). The ImageError has
	// Image 2.
	ErrMultipleFaces = errors.New("more than one face")
	// ErrInvalidThreshold: the threshold is outside [MinThreshold,
	// MaxThreshold] = [0.70, 0.95], or NaN (CheckThreshold).
	ErrInvalidThreshold = errors.New("invalid threshold")
	// ErrInvalidURL: not an absolute http or https URL (also for a
	// redirect to one).
	ErrInvalidURL = fetch.ErrInvalidURL
	// ErrForbiddenURL: the URL (or a redirect) leads to a loopback,
	// private, link-local or otherwise non-public address, and
	// Options.AllowPrivateURLs is false.
	ErrForbiddenURL = fetch.ErrForbiddenURL
	// ErrFetch: the URL could not be fetched (connection, DNS, non-2xx
	// status, more than 3 redirects, cancelled).
	ErrFetch = fetch.ErrFetch
	// ErrFetchTimeout: fetching the URL took longer than
	// Options.FetchTimeout (or the context's deadline).
	ErrFetchTimeout = fetch.ErrFetchTimeout
	// ErrNotAligned: Matcher.EmbedAligned was given an image that is not
	// an embed.InputSize x embed.InputSize crop.
	ErrNotAligned = embed.ErrInputSize
	// ErrNilSource: a nil Source, or Image(nil).
	ErrNilSource = errors.New("no image given")
	// ErrInvalidOptions: an Options field is out of range.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrInternal: a bug, not bad input — a recovered panic or a failure
	// inside the detector or the embedding engine.
	ErrInternal = errors.New("internal error")
)

// ImageError reports which of the two images of Compare an error is about.
// Unwrap returns the cause, so errors.Is(err, ErrNoFace) works through it.
type ImageError struct {
	Image int // 1 or 2
	Err   error
}

func (e *ImageError) Error() string { return fmt.Sprintf("image%d: %v", e.Image, e.Err) }

// Unwrap returns the underlying error.
func (e *ImageError) Unwrap() error { return e.Err }

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
