package liveness

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/nn/pytorch"
	"github.com/facematch/facematch/weights"
)

// Errors. Each is wrapped with detail; test with errors.Is.
var (
	// ErrModel: the weights could not be read or do not form a MiniFASNet.
	ErrModel = errors.New("liveness: invalid model")
	// ErrBox: the face box is empty or does not overlap the image.
	ErrBox = errors.New("liveness: face box empty or outside the image")
)

// DefaultThreshold is the ensemble score at or above which a face is called
// live. It is chosen on datasets/nuaa-train (NUAA subjects 1-9, live and
// printed-photo webcam images) by the rule "the largest threshold that
// rejects at most 2 % of the live images", rounded down to two decimals.
// liveness/testdata/threshold.md records the command, the per-image
// scores, what the threshold rejects and accepts there, and how the rule's
// choice varies with the subjects.
const DefaultThreshold = 0.54

// Model describes one network of the ensemble.
type Model struct {
	Name  string  // "MiniFASNetV2" or "MiniFASNetV1SE"
	Scale float64 // how many times the face box is grown before cropping
}

// NumModels is the number of networks in the ensemble.
const NumModels = 2

// Models returns the ensemble's networks, in the order of Result.Models.
func Models() [NumModels]Model { return models }

var models = [NumModels]Model{{"MiniFASNetV2", 2.7}, {"MiniFASNetV1SE", 4.0}}

// Options configures a Checker; a nil *Options means all defaults.
type Options struct {
	// Threshold is the live/attack cut on Result.Score; 0 means
	// DefaultThreshold.
	Threshold float64
}

// Checker scores faces with the MiniFASNetV2 + MiniFASNetV1SE ensemble. It
// is safe for concurrent use and deterministic.
type Checker struct {
	nets      [NumModels]network
	threshold float64
}

// New loads the bundled networks (package weights).
func New(opts *Options) (*Checker, error) {
	return NewFromWeights(weights.MiniFASNetV2(), weights.MiniFASNetV1SE(), opts)
}

// NewFromWeights loads the ensemble from two PyTorch state dicts of
// minivision's MiniFASNet family (for the scales of Models).
func NewFromWeights(v2, v1se []byte, opts *Options) (*Checker, error) {
	c := &Checker{threshold: DefaultThreshold}
	if opts != nil && opts.Threshold != 0 {
		if !(opts.Threshold > 0 && opts.Threshold <= 1) {
			return nil, fmt.Errorf("liveness: threshold %v outside (0, 1]", opts.Threshold)
		}
		c.threshold = opts.Threshold
	}
	for i, b := range [][]byte{v2, v1se} {
		g, err := LoadGraph(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", models[i].Name, err)
		}
		if c.nets[i], err = newNetwork(g); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrModel, models[i].Name, err)
		}
	}
	return c, nil
}

// LoadGraph reads a MiniFASNet state dict into an nn.Graph (BatchNorm
// folded) that maps a 3x80x80 BGR 0-255 patch to 3 logits.
func LoadGraph(pth []byte) (*nn.Graph, error) {
	sd, err := pytorch.Decode(pth)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	return buildMiniFASNet(sd)
}

// Threshold is the checker's live/attack cut.
func (c *Checker) Threshold() float64 { return c.threshold }

// ModelScore is one network's view of the face.
type ModelScore struct {
	Model
	// Crop is the image region the patch was resized from (in the image's
	// coordinates, Max exclusive).
	Crop image.Rectangle
	// Softmax is the class probabilities: 0 and 2 attacks, 1 real face.
	Softmax [3]float64
	// Live is Softmax[1].
	Live float64
}

// Result is the ensemble's verdict on one face.
type Result struct {
	// Score is the mean of the networks' real-face probabilities, in
	// [0, 1]: minivision's ensemble score.
	Score float64
	// Live is Score >= Threshold.
	Live      bool
	Threshold float64
	Models    [NumModels]ModelScore
}

// Check scores the face in box. box is in the convention of minivision's
// own face detector (a tight box from brow to chin); for a box from package
// detect, pass FromDetector(face.Box) instead.
func (c *Checker) Check(img image.Image, box image.Rectangle) (*Result, error) {
	b := img.Bounds()
	box = box.Intersect(b)
	if box.Empty() {
		return nil, ErrBox
	}
	res := &Result{Threshold: c.threshold}
	for i, m := range models {
		x0, y0, x1, y1 := CropBox(b.Dx(), b.Dy(), float64(box.Min.X-b.Min.X), float64(box.Min.Y-b.Min.Y),
			float64(box.Dx()), float64(box.Dy()), m.Scale)
		logits, err := c.logits(i, Patch(img, x0, y0, x1, y1))
		if err != nil {
			return nil, err
		}
		sm := Softmax(logits)
		res.Models[i] = ModelScore{Model: m, Crop: image.Rect(x0, y0, x1+1, y1+1).Add(b.Min), Softmax: sm, Live: sm[1]}
		res.Score += sm[1] / float64(NumModels)
	}
	res.Live = res.Score >= c.threshold
	return res, nil
}

// Logits runs network i (an index into Models) on a 3x80x80 BGR patch.
func (c *Checker) logits(i int, patch []float32) ([3]float32, error) {
	out, err := c.nets[i].Run(patch)
	if err != nil {
		return [3]float32{}, fmt.Errorf("liveness: %s: %w", models[i].Name, err)
	}
	if len(out) != 1 || len(out[0]) != 3 {
		return [3]float32{}, fmt.Errorf("%w: %s returned %d outputs", ErrModel, models[i].Name, len(out))
	}
	return [3]float32(out[0]), nil
}

// Softmax turns logits into probabilities (float64, max-shifted).
func Softmax(l [3]float32) [3]float64 {
	m := math.Max(float64(l[0]), math.Max(float64(l[1]), float64(l[2])))
	var p [3]float64
	var s float64
	for i, v := range l {
		p[i] = math.Exp(float64(v) - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}
