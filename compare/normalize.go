package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/facematch/facematch/weights"
)

// ErrModelFile is returned (wrapped, with detail) by LoadModel for a
// statistics file that cannot be used.
var ErrModelFile = errors.New("compare: invalid calibration file")

// Normalizer maps an embedding into the space where two faces are compared:
// it subtracts a cohort's mean embedding, removes a few directions along
// which the cohort's faces vary together whoever they are, and scales the
// result back to unit length.
//
// MobileFaceNet's embeddings of faces of one demographic share a common
// direction: without it, two different East-Asian faces score a median
// cosine of about 0.3 where two different LFW faces score about 0. The mean
// and the directions are derived statistics of identity-labelled faces of
// several demographics (weights/calibration.json names them); nothing else
// of those faces is bundled.
//
// A nil *Normalizer, or one without a Mean, is the identity: its
// Similarity is Cosine.
type Normalizer struct {
	Mean   []float32   `json:"mean"`   // subtracted first; len = the embedding size
	Remove [][]float32 `json:"remove"` // orthonormal directions projected out after centring
}

// Model is the content of weights/calibration.json: the normalisation, the
// calibration of its scores, and where both came from.
type Model struct {
	Normalizer  *Normalizer `json:"normalizer"`
	Calibration Calibration `json:"calibration"`
	Source      ModelSource `json:"source"`
}

// ModelSource records how a Model was derived.
type ModelSource struct {
	Normalization string   `json:"normalization"` // the variant, in words
	Calibration   string   `json:"calibration"`   // how the curve was anchored and fitted
	Command       string   `json:"command"`       // the command that rebuilds the file
	Data          []string `json:"data"`          // the sets it came from
}

// LoadModel parses a file in the layout of weights/calibration.json. Errors
// wrap ErrModelFile.
func LoadModel(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModelFile, err)
	}
	c := m.Calibration
	if !(c.A > 0) || math.IsInf(c.A, 0) || math.IsNaN(c.B) || math.IsInf(c.B, 0) {
		return nil, fmt.Errorf("%w: calibration A=%g B=%g (A must be finite and > 0)", ErrModelFile, c.A, c.B)
	}
	if n := m.Normalizer; n != nil {
		for i, u := range n.Remove {
			if len(u) != len(n.Mean) {
				return nil, fmt.Errorf("%w: direction %d has %d values, the mean %d", ErrModelFile, i, len(u), len(n.Mean))
			}
		}
		for _, v := range n.Mean {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: mean is not finite", ErrModelFile)
			}
		}
	}
	return &m, nil
}

// defaultModel is the bundled weights/calibration.json, parsed once and
// never modified: the exported accessors hand out copies.
var defaultModel = mustLoadModel(weights.Calibration())

// DefaultModel returns a copy of the bundled weights/calibration.json;
// DefaultCalibration and DefaultNormalizer are its parts.
// compare/CALIBRATION.md records how it was fitted and what it measures on
// each set. The caller owns the copy.
func DefaultModel() *Model {
	m := *defaultModel
	m.Normalizer = defaultModel.Normalizer.clone()
	m.Source.Data = append([]string(nil), defaultModel.Source.Data...)
	return &m
}

// DefaultNormalizer returns a copy of the normalisation Similarity applies
// before the cosine. The caller owns the copy; to map an embedding without
// copying the statistics, use Normalize.
func DefaultNormalizer() *Normalizer { return defaultModel.Normalizer.clone() }

// Normalize returns e mapped by the default normaliser (DefaultNormalizer's
// Apply), written to dst when it has room: the vector Similarity takes the
// cosine of.
func Normalize(dst, e []float32) []float32 { return defaultModel.Normalizer.Apply(dst, e) }

func (n *Normalizer) clone() *Normalizer {
	if n == nil {
		return nil
	}
	c := &Normalizer{Mean: append([]float32(nil), n.Mean...)}
	for _, u := range n.Remove {
		c.Remove = append(c.Remove, append([]float32(nil), u...))
	}
	return c
}

func mustLoadModel(data []byte) *Model {
	m, err := LoadModel(data)
	if err != nil {
		// The file is bundled and checked by the tests: a built module
		// cannot fail here.
		panic(err)
	}
	return m
}

// Similarity is the score the facematch package compares faces with and
// DefaultCalibration calibrates: the cosine of a and b after
// DefaultNormalizer. Like Cosine it is NaN when the lengths differ or a
// vector is empty.
func Similarity(a, b []float32) float64 { return defaultModel.Normalizer.Similarity(a, b) }

func (n *Normalizer) identity() bool { return n == nil || len(n.Mean) == 0 }

// Apply returns e mapped by n (unit length), written to dst when it has
// room. It returns nil when e's length is not the statistics'. The identity
// normaliser returns e scaled to unit length.
func (n *Normalizer) Apply(dst, e []float32) []float32 {
	if !n.identity() && len(e) != len(n.Mean) {
		return nil
	}
	if cap(dst) < len(e) {
		dst = make([]float32, len(e))
	}
	dst = dst[:len(e)]
	copy(dst, e)
	if !n.identity() {
		for i := range dst {
			dst[i] -= n.Mean[i]
		}
		for _, u := range n.Remove {
			var p float64
			for i := range dst {
				p += float64(dst[i]) * float64(u[i])
			}
			for i := range dst {
				dst[i] -= float32(p) * u[i]
			}
		}
	}
	var ss float64
	for _, v := range dst {
		ss += float64(v) * float64(v)
	}
	if ss > 0 {
		s := float32(1 / math.Sqrt(ss))
		for i := range dst {
			dst[i] *= s
		}
	}
	return dst
}

// Similarity is the cosine of a and b after Apply: Cosine(n.Apply(a),
// n.Apply(b)), bit for bit, so a score computed from stored normalised
// vectors (face templates, a gallery) equals the one computed from the raw
// embeddings. NaN when the lengths differ from the statistics' or a vector
// is empty.
func (n *Normalizer) Similarity(a, b []float32) float64 {
	if n.identity() {
		return Cosine(a, b)
	}
	if len(a) != len(b) || len(a) != len(n.Mean) {
		return math.NaN()
	}
	// Cosine hands its vectors to gonum's BLAS interface, so buffers on
	// the stack would escape: reuse pooled ones instead.
	bufs := similarityBufs.Get().(*[2][]float32)
	defer similarityBufs.Put(bufs)
	bufs[0], bufs[1] = n.Apply(bufs[0], a), n.Apply(bufs[1], b)
	return Cosine(bufs[0], bufs[1])
}

// similarityBufs holds the two mapped vectors of a Similarity call.
var similarityBufs = sync.Pool{New: func() any { return new([2][]float32) }}
