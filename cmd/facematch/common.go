package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"sync"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/detect"
)

// errUsage marks command-line mistakes (exit 2, code "usage").
var errUsage = errors.New("usage")

// parseArgs parses flags that may appear before, between or after the
// positional arguments ("--" ends flag parsing). It returns the positional
// arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newFlagSet returns a FlagSet that prints its usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: facematch %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// source turns a command-line argument into an image source: http(s) URLs
// are fetched, anything else is a file path.
func source(arg string) (facematch.Source, error) {
	lower := strings.ToLower(arg)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return facematch.URL(arg), nil
	case strings.Contains(arg, "://"):
		return nil, fmt.Errorf("%w: %q (only http and https URLs, or a file path)", facematch.ErrInvalidURL, arg)
	}
	return facematch.File(arg), nil
}

// errorCode is the stable machine-readable code of err for --json output.
func errorCode(err error) string {
	codes := []struct {
		err  error
		code string
	}{
		{errUsage, "usage"},
		{facematch.ErrInvalidThreshold, "invalid_threshold"},
		{facematch.ErrUnsupportedFormat, "unsupported_format"},
		{facematch.ErrTooLarge, "image_too_large"},
		{facematch.ErrImageTooLarge, "image_dimensions_too_large"},
		{facematch.ErrCorruptImage, "corrupt_image"},
		{facematch.ErrNoFace, "no_face"},
		{facematch.ErrMultipleFaces, "multiple_faces"},
		{facematch.ErrInvalidURL, "invalid_url"},
		{facematch.ErrForbiddenURL, "forbidden_url"},
		{facematch.ErrFetchTimeout, "fetch_timeout"},
		{facematch.ErrFetch, "fetch_failed"},
		{facematch.ErrNotAligned, "not_aligned"},
		{fs.ErrNotExist, "file_not_found"},
		{fs.ErrPermission, "permission_denied"},
		{facematch.ErrInternal, "internal"},
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "error"
}

// fail reports err on stderr (and, with asJSON, as {"error": {...}} on
// stdout) and returns exit status 2.
func fail(err error, asJSON bool, stdout, stderr io.Writer) int {
	if errors.Is(err, facematch.ErrForbiddenURL) {
		err = fmt.Errorf("%w (pass --allow-private-urls to allow loopback and private addresses)", err)
	}
	fmt.Fprintf(stderr, "facematch: %v\n", err)
	if asJSON {
		e := jsonError{Code: errorCode(err), Message: err.Error()}
		var ie *facematch.ImageError
		if errors.As(err, &ie) {
			e.Image = ie.Image
		}
		writeJSON(stdout, map[string]jsonError{"error": e})
	}
	return exitError
}

type jsonError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Image   int    `json:"image,omitempty"` // 1 or 2 when the error is about one image of compare
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // nothing useful to do if stdout is gone
}

// JSON shapes shared by the subcommands.

type jsonBox struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

type jsonFace struct {
	Box       jsonBox       `json:"box"`
	Score     float32       `json:"score"`
	Landmarks [5][2]float64 `json:"landmarks"` // left eye, right eye, nose, left mouth, right mouth
	Angle     float64       `json:"angle"`
	// Orientation is the quarter turn (0, 90, 180, 270 degrees clockwise)
	// the face lies turned by in the image (detect.Face.Orientation).
	Orientation int `json:"orientation"`
}

func toJSONFace(f detect.Face) jsonFace {
	j := jsonFace{
		Box:         jsonBox{X: f.Box.Min.X, Y: f.Box.Min.Y, Width: f.Box.Dx(), Height: f.Box.Dy()},
		Score:       f.Score,
		Angle:       f.Angle,
		Orientation: f.Orientation,
	}
	for i, p := range f.Landmarks {
		j.Landmarks[i] = [2]float64{round2(p.X), round2(p.Y)}
	}
	return j
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

var (
	matchersMu sync.Mutex
	matchers   = map[bool]*facematch.Matcher{}
)

// matcher returns a Matcher, built once per process and option set (the
// model and cascades load once even when run is called many times).
func matcher(allowPrivateURLs bool) (*facematch.Matcher, error) {
	matchersMu.Lock()
	defer matchersMu.Unlock()
	if m := matchers[allowPrivateURLs]; m != nil {
		return m, nil
	}
	m, err := facematch.New(&facematch.Options{AllowPrivateURLs: allowPrivateURLs})
	if err != nil {
		return nil, err
	}
	matchers[allowPrivateURLs] = m
	return m, nil
}

func describeFace(f detect.Face) string {
	l := f.Landmarks
	return fmt.Sprintf("box (%d,%d)-(%d,%d) %dx%d score %.1f eyes (%.1f,%.1f) (%.1f,%.1f) nose (%.1f,%.1f) mouth (%.1f,%.1f) (%.1f,%.1f)",
		f.Box.Min.X, f.Box.Min.Y, f.Box.Max.X, f.Box.Max.Y, f.Box.Dx(), f.Box.Dy(), f.Score,
		l[0].X, l[0].Y, l[1].X, l[1].Y, l[2].X, l[2].Y, l[3].X, l[3].Y, l[4].X, l[4].Y) + turnedText(f.Orientation)
}

// turnedText says, for a face lying turned by orientation degrees
// clockwise (detect.Face.Orientation), that the image is stored turned;
// nothing for an upright face.
func turnedText(orientation int) string {
	if orientation == 0 {
		return ""
	}
	return fmt.Sprintf(", image stored turned %d° clockwise (corrected)", orientation)
}

// flagErrHelp is flag.ErrHelp: -h/--help printed the usage (exit 0).
var flagErrHelp = flag.ErrHelp

// oneImage parses the arguments of a one-image subcommand (name) and opens
// the image's source and the matcher; asJSON and allowPrivate point at the
// subcommand's flags, which parsing sets. When ok is false it has already
// reported the problem and code is the exit status to return.
func oneImage(fs *flag.FlagSet, args []string, name string, asJSON, allowPrivate *bool, stdout, stderr io.Writer) (arg string, src facematch.Source, m *facematch.Matcher, code int, ok bool) {
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flagErrHelp) {
		return "", nil, nil, exitMatch, false
	}
	if err != nil {
		return "", nil, nil, fail(fmt.Errorf("%w: %v", errUsage, err), jsonRequested(args), stdout, stderr), false
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", nil, nil, fail(fmt.Errorf("%w: %s needs exactly one image, got %d", errUsage, name, len(pos)), *asJSON, stdout, stderr), false
	}
	if src, err = source(pos[0]); err != nil {
		return "", nil, nil, fail(err, *asJSON, stdout, stderr), false
	}
	if m, err = matcher(*allowPrivate); err != nil {
		return "", nil, nil, fail(err, *asJSON, stdout, stderr), false
	}
	return pos[0], src, m, 0, true
}
