package mtcnn

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/sample"
	"github.com/facematch/facematch/internal/tflite"
	"github.com/facematch/facematch/weights"
)

var (
	// ErrModel reports model bytes that are not a usable P-Net or R-Net.
	ErrModel = errors.New("mtcnn: unusable model")
	// ErrOptions reports Options outside their documented ranges.
	ErrOptions = errors.New("mtcnn: invalid options")
	// ErrImage reports an image with no pixels (a nil image, or empty
	// bounds).
	ErrImage = errors.New("mtcnn: empty image")
	// ErrInternal wraps a failure of the network runtime (a bug, not bad
	// input).
	ErrInternal = errors.New("mtcnn: internal error")
)

// Default option values (the thresholds and factors of the MTCNN paper's
// reference implementation).
const (
	DefaultMinFaceSize    = 20
	DefaultScaleFactor    = 0.709
	DefaultPNetThreshold  = 0.6
	DefaultRNetThreshold  = 0.7
	DefaultMaxCandidates  = 400
	DefaultMaxLevelPixels = 1 << 20
)

// Options configures Propose. A nil *Options, or a zero field, means the
// default.
type Options struct {
	// MinFaceSize is the side, in image pixels, of the smallest face looked
	// for (default 20, at least 12: P-Net's window is 12 pixels). The
	// pyramid's largest level scales the image by 12/MinFaceSize.
	MinFaceSize float64
	// ScaleFactor is the ratio between consecutive pyramid levels, in
	// (0.1, 0.95] (default 0.709: the window area halves per level).
	ScaleFactor float64
	// PNetThreshold and RNetThreshold are the face probabilities a window
	// must reach at each stage, in (0, 1) (defaults 0.6 and 0.7).
	PNetThreshold, RNetThreshold float32
	// Overhang lets P-Net's windows hang over the image's edges by up to
	// this fraction of their side, in [0, 0.5] (default 0: windows inside
	// the image). The part outside reads as black (package sample's policy),
	// which finds faces cut by the frame. Negative means 0.
	Overhang float64
	// MaxCandidates caps the P-Net windows handed to R-Net, the most
	// probable first (default 400). It bounds the work per image.
	MaxCandidates int
	// MaxLevelPixels caps the pyramid's largest level (default 1<<20
	// pixels): on a larger image MinFaceSize is raised until the level
	// fits, which bounds memory per call.
	MaxLevelPixels int
}

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MinFaceSize == 0 {
		r.MinFaceSize = DefaultMinFaceSize
	}
	if r.ScaleFactor == 0 {
		r.ScaleFactor = DefaultScaleFactor
	}
	if r.PNetThreshold == 0 {
		r.PNetThreshold = DefaultPNetThreshold
	}
	if r.RNetThreshold == 0 {
		r.RNetThreshold = DefaultRNetThreshold
	}
	if r.MaxCandidates == 0 {
		r.MaxCandidates = DefaultMaxCandidates
	}
	if r.MaxLevelPixels == 0 {
		r.MaxLevelPixels = DefaultMaxLevelPixels
	}
	r.Overhang = max(r.Overhang, 0)
	switch {
	case !(r.MinFaceSize >= 12) || math.IsInf(r.MinFaceSize, 0):
		return r, fmt.Errorf("%w: MinFaceSize %v (want at least 12)", ErrOptions, r.MinFaceSize)
	case !(r.ScaleFactor > 0.1 && r.ScaleFactor <= 0.95):
		return r, fmt.Errorf("%w: ScaleFactor %v (want (0.1, 0.95])", ErrOptions, r.ScaleFactor)
	case !(r.PNetThreshold > 0 && r.PNetThreshold < 1) || !(r.RNetThreshold > 0 && r.RNetThreshold < 1):
		return r, fmt.Errorf("%w: thresholds %v, %v (want (0, 1))", ErrOptions, r.PNetThreshold, r.RNetThreshold)
	case !(r.Overhang <= 0.5):
		return r, fmt.Errorf("%w: Overhang %v (want [0, 0.5])", ErrOptions, r.Overhang)
	case r.MaxCandidates < 0 || r.MaxLevelPixels < 0:
		return r, fmt.Errorf("%w: MaxCandidates %d, MaxLevelPixels %d", ErrOptions, r.MaxCandidates, r.MaxLevelPixels)
	case r.MaxLevelPixels < 144:
		return r, fmt.Errorf("%w: MaxLevelPixels %d (want at least 144)", ErrOptions, r.MaxLevelPixels)
	}
	return r, nil
}

// Proposal is one face found: a square box in the image's pixel-index
// coordinates (it covers X <= x < X+Size, Y <= y < Y+Size, fractional
// edges, possibly reaching outside the image), the same convention as
// onet.Box, and R-Net's face probability.
type Proposal struct {
	X, Y, Size float64
	Prob       float32
}

// Detector runs P-Net and R-Net. It is safe for concurrent use.
type Detector struct {
	pnet []*pnetTile // compiled at a few tile sizes, largest first
	rnet *nn.Net
	// Output positions of the probabilities and of the box regression.
	rProb, rReg int
}

// New returns a Detector running the networks bundled in package weights.
func New() (*Detector, error) { return NewFromModels(weights.PNet(), weights.RNet()) }

// NewFromModels returns a Detector running the given P-Net and R-Net
// (TFLite flatbuffers laid out like the bundled ones). Errors wrap
// ErrModel.
func NewFromModels(pnet, rnet []byte) (*Detector, error) {
	d := &Detector{}
	pg, err := tflite.Load(pnet)
	if err != nil {
		return nil, fmt.Errorf("%w: P-Net: %w", ErrModel, err)
	}
	for _, side := range tileSides {
		t, err := newPNetTile(pg, side)
		if err != nil {
			return nil, err
		}
		d.pnet = append(d.pnet, t)
	}
	rg, err := tflite.Load(rnet)
	if err != nil {
		return nil, fmt.Errorf("%w: R-Net: %w", ErrModel, err)
	}
	if rg.Input != (nn.Shape{C: 3, H: rnetInput, W: rnetInput}) {
		return nil, fmt.Errorf("%w: R-Net input %v, want 3x24x24", ErrModel, rg.Input)
	}
	if d.rnet, err = nn.Compile(rg, nil); err != nil {
		return nil, fmt.Errorf("%w: R-Net: %w", ErrModel, err)
	}
	d.rProb, d.rReg = -1, -1
	for i, s := range d.rnet.Outputs() {
		switch s {
		case nn.Shape{C: 2, H: 1, W: 1}:
			d.rProb = i
		case nn.Shape{C: 4, H: 1, W: 1}:
			d.rReg = i
		}
	}
	if len(d.rnet.Outputs()) != 2 || d.rProb < 0 || d.rReg < 0 {
		return nil, fmt.Errorf("%w: R-Net outputs %v, want [2] and [4]", ErrModel, d.rnet.Outputs())
	}
	return d, nil
}

// Propose finds faces in img: P-Net over an image pyramid, then R-Net on
// each surviving window. It returns square boxes in image coordinates with
// R-Net's probability, most probable first (ties in a fixed order): the
// same image gives the same proposals, bit for bit, on every call. Boxes
// overlapping at IoU > 0.7 are merged into the more probable. Errors wrap
// ErrImage, ErrOptions or ErrInternal.
func (d *Detector) Propose(img image.Image, opts *Options) ([]Proposal, error) {
	return d.ProposeContext(context.Background(), img, opts)
}

// ProposeContext is Propose stopping early when ctx is done: it looks at
// ctx between pyramid levels, before each P-Net tile and before each R-Net
// crop, and then returns ctx.Err(). With a live ctx its output is
// Propose's, bit for bit.
func (d *Detector) ProposeContext(ctx context.Context, img image.Image, opts *Options) (ps []Proposal, err error) {
	defer func() {
		if r := recover(); r != nil { // a bug: report it rather than crash the caller
			ps, err = nil, fmt.Errorf("%w: %v", ErrInternal, r)
		}
	}()
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if img == nil || img.Bounds().Empty() {
		return nil, ErrImage
	}
	src := sample.New(img)
	b := img.Bounds()
	sizes := scales(b.Dx(), b.Dy(), &o)
	if len(sizes) == 0 {
		return nil, nil
	}
	levels := pyramid(ctx, src, sizes)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cands, err := d.stage1(ctx, src, levels, &o)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, nil
	}
	return d.stage2(ctx, src, levels, cands, &o)
}
