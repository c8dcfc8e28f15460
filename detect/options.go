package detect

import (
	"fmt"
	"math"
)

// Options tunes the detector. The zero value of each field means its default;
// a nil *Options means all defaults.
type Options struct {
	// MinFaceFraction is the smallest face searched for, as a fraction of
	// the shorter image side. Default 1/12.
	MinFaceFraction float64
	// MinFaceSize is an absolute lower bound on the searched face size, in
	// pixels of the (possibly downscaled) working image. Default 20.
	MinFaceSize int
	// MaxFaceFraction is the largest face searched for, as a fraction of the
	// shorter image side. Default 1 (a face filling the image).
	MaxFaceFraction float64
	// MinScore is the quality cut on Face.Score for the best face of an
	// image found upright. Default DefaultMinScore.
	MinScore float32
	// MinExtraScore is the cut for every other face of the image (found
	// upright). It is higher than MinScore because a weak extra face beside a
	// strong one is more often a face-like patch than a face (the official
	// Obama portrait has one at 7.0 beside the real face at 68.9). With
	// LandmarksONet a window under the cuts is still kept when ONet confirms
	// it (see MinExtraFaceProb). Default DefaultMinExtraScore; it is raised
	// to MinScore if lower.
	MinExtraScore float32
	// MinRotatedScore is the cut for faces found on a rotated copy (see
	// Angles); it is higher because every extra angle is another chance for
	// a face-like pattern (the cat fixture scores 14.6 at 40 degrees).
	// Default DefaultMinRotatedScore.
	MinRotatedScore float32
	// ShiftFactor is the window step as a fraction of the window size.
	// Default 0.1.
	ShiftFactor float64
	// ScaleFactor is the ratio between successive window sizes. Default 1.1.
	ScaleFactor float64
	// IoUThreshold merges raw windows whose intersection over union exceeds
	// it. Default 0.2.
	IoUThreshold float64
	// MaxSide bounds the longest side of the grey working copy; larger
	// images are area-averaged down to it. Default 1024.
	MaxSide int
	// Angles are the in-plane rotations, in degrees, tried in order when no
	// face found upright scores MinExtraScore or more; the first angle that
	// yields faces (scoring MinRotatedScore) wins and replaces the weak
	// upright ones.
	// Default DefaultAngles(). Set NoRotation to disable.
	Angles []float64
	// NoRotation disables the rotated retries.
	NoRotation bool
	// Landmarks selects how the landmarks are placed. Default
	// LandmarksONet (see refine.go).
	Landmarks LandmarkMethod
	// MinFaceProb is the ONet face probability a doubtful face needs to
	// be kept: one scoring under MinRotatedScore, found by a retry (mirror,
	// rotation, quarter turn) or overlapping a better face,
	// and, when no face is found otherwise, a weak window (scoring below
	// MinScore). Only used with LandmarksONet. Default DefaultMinFaceProb.
	MinFaceProb float32
	// MinExtraFaceProb is the ONet face probability a weak window (scoring
	// below the cuts above) beside an upright face needs to be kept as
	// another face: pico's cascade scores some turned or shadowed faces
	// weakly, and a stronger face elsewhere in the picture would otherwise
	// hide them. Only used with LandmarksONet. Default
	// DefaultMinExtraFaceProb.
	MinExtraFaceProb float32
	// MirrorLandmarks also computes the landmarks on the mirror image and
	// averages the two. Off by default: on LFW it measured worse (NME 0.052
	// → 0.056 on the held-out half), because the correction of correct.go
	// was fitted on single views and pico's window is not placed
	// symmetrically on a face.
	MirrorLandmarks bool
	// NoPadding disables the scan of windows crossing the image border
	// (see pad.go), which runs when no face found upright scores
	// MinExtraScore.
	NoPadding bool
	// NoQuarterTurns disables the retries on the image turned by 90, 270
	// and 180 degrees when no face is found as it is (see
	// Face.Orientation).
	NoQuarterTurns bool
	// NoMirror disables the retry on the mirror image, which runs when no
	// face found upright scores MinExtraScore; faces found mirrored must
	// score MinExtraScore.
	NoMirror bool
	// NoProposals disables the last stage, MTCNN's P-Net and R-Net
	// (internal/mtcnn), which keeps the proposals ONet gives a face
	// probability of 0.9 or more (see proposals.go): it finds heads turned
	// beyond the cascade's reach and faces filling the frame. Such faces
	// have Face.Proposed set and Score 0. It runs only when the other
	// stages found no face, only faces on one side of the image's centre
	// line, or only doubtful windows (scoring under MinRotatedScore, or
	// given under MinFaceProb by ONet), so a confidently found face, or
	// two flanking the centre, give the same faces either way. The option saves the stage's time (about 0.4x a
	// pigo scan at MinSize 20 on a 640x480 photo without a face) and the
	// 11 MB of networks New loads. With LandmarksCascade the stage is
	// always off (it needs ONet).
	NoProposals bool
}

// Default quality cuts on Face.Score. Measured with the default options:
// on the LFW images of pairs.txt the median face scores about 110 and 99% of
// faces score above 5.6 (raising the cut from 5 to 8 loses another 0.6% of
// them); false positives on the fixtures score up to 7.0 upright (beside a
// real face in a portrait) and up to 14.6 on rotated copies (the cat); the
// weakest of the 29 faces of the 1927 Solvay group photo scores 21.
const (
	DefaultMinScore        = 5
	DefaultMinExtraScore   = 10
	DefaultMinRotatedScore = 20
)

// DefaultAngles returns the in-plane rotations (degrees) tried, in order,
// when nothing is found upright: -20, 20, -40, 40. Each call returns a new
// slice.
func DefaultAngles() []float64 { return []float64{-20, 20, -40, 40} }

// withDefaults returns *opts (the zero Options for nil) with its zero
// fields set to their defaults (those of the ONet probabilities aside,
// which only apply with LandmarksONet).
func withDefaults(opts *Options) Options {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MinFaceFraction, 1.0/12)
	def(&o.MaxFaceFraction, 1)
	def(&o.ShiftFactor, 0.1)
	def(&o.ScaleFactor, 1.1)
	def(&o.IoUThreshold, 0.2)
	if o.MinFaceSize == 0 {
		o.MinFaceSize = 20
	}
	if o.MaxSide == 0 {
		o.MaxSide = 1024
	}
	if o.MinScore == 0 {
		o.MinScore = DefaultMinScore
	}
	if o.MinExtraScore == 0 {
		o.MinExtraScore = DefaultMinExtraScore
	}
	o.MinExtraScore = max(o.MinExtraScore, o.MinScore)
	if o.MinRotatedScore == 0 {
		o.MinRotatedScore = DefaultMinRotatedScore
	}
	return o
}

// badOption is the ErrInvalidOptions error of field holding v.
func badOption(field string, v any) error {
	return fmt.Errorf("%w: %s = %v", ErrInvalidOptions, field, v)
}

// check validates the scan and score fields of o (defaults applied).
func (o *Options) check() error {
	switch {
	case !(o.MinFaceFraction > 0 && o.MinFaceFraction <= 1):
		return badOption("MinFaceFraction", o.MinFaceFraction)
	case !(o.MaxFaceFraction >= o.MinFaceFraction && o.MaxFaceFraction <= 1):
		return badOption("MaxFaceFraction", o.MaxFaceFraction)
	case o.MinFaceSize < 16:
		return badOption("MinFaceSize", o.MinFaceSize)
	case !(o.ShiftFactor >= 0.01 && o.ShiftFactor <= 0.5):
		return badOption("ShiftFactor", o.ShiftFactor)
	case !(o.ScaleFactor >= 1.01 && o.ScaleFactor <= 2):
		return badOption("ScaleFactor", o.ScaleFactor)
	case !(o.IoUThreshold > 0 && o.IoUThreshold < 1):
		return badOption("IoUThreshold", o.IoUThreshold)
	case o.MaxSide < 64:
		return badOption("MaxSide", o.MaxSide)
	case !(o.MinScore > 0) || math.IsInf(float64(o.MinScore), 0):
		return badOption("MinScore", o.MinScore)
	case math.IsNaN(float64(o.MinExtraScore)) || math.IsInf(float64(o.MinExtraScore), 0):
		return badOption("MinExtraScore", o.MinExtraScore)
	case !(o.MinRotatedScore > 0) || math.IsInf(float64(o.MinRotatedScore), 0):
		return badOption("MinRotatedScore", o.MinRotatedScore)
	}
	return nil
}
