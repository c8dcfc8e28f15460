package facematch

import (
	"context"
	"fmt"
	"image"
	"sync"

	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/liveness"
)

// LivenessResult is the passive-liveness verdict on one face: whether the
// photo shows a live person in front of the camera rather than a printed
// photo or a screen (see package liveness for what it does and does not
// catch).
type LivenessResult struct {
	// Live is the verdict: Score >= Threshold.
	Live bool
	// Score is the ensemble's probability that the face is real, in [0, 1].
	Score float64
	// Threshold is the cut that was applied (Options.Liveness, default
	// liveness.DefaultThreshold).
	Threshold float64
	// Face is the face that was checked, in the decoded image's
	// coordinates: the largest face for Liveness, the compared face of
	// image2 for Compare.
	Face detect.Face
	// Models are the per-network scores (MiniFASNetV2, MiniFASNetV1SE).
	Models [liveness.NumModels]liveness.ModelScore
}

// lazyLiveness loads the liveness networks on first use, so that Matchers
// that never check liveness do not pay for them.
type lazyLiveness struct {
	opts *liveness.Options
	once sync.Once
	c    *liveness.Checker
	err  error
}

func (l *lazyLiveness) checker() (*liveness.Checker, error) {
	l.once.Do(func() {
		l.c, l.err = liveness.New(l.opts)
		if l.err != nil {
			l.err = fmt.Errorf("%w: liveness: %w", ErrInvalidOptions, l.err)
		}
	})
	return l.c, l.err
}

// checkLivenessOptions validates Options.Liveness when the Matcher is made.
func checkLivenessOptions(o *liveness.Options) error {
	if o != nil && o.Threshold != 0 && !(o.Threshold > 0 && o.Threshold <= 1) {
		return fmt.Errorf("%w: liveness threshold %v outside (0, 1]", ErrInvalidOptions, o.Threshold)
	}
	return nil
}

// Liveness decodes src, finds its largest face and tells whether it is a
// live person or a presentation attack (a printed photo or a screen held to
// the camera). It is a single-frame, passive check: see package liveness for
// its evidence and limits. No face is ErrNoFace.
func (m *Matcher) Liveness(ctx context.Context, src Source) (res *LivenessResult, err error) {
	defer recoverInternal(&err)
	img, faces, err := m.detect(ctx, src)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, ErrNoFace
	}
	return m.checkLiveness(ctx, img, faces[0])
}

// checkLiveness scores one detected face of img.
func (m *Matcher) checkLiveness(ctx context.Context, img image.Image, face detect.Face) (*LivenessResult, error) {
	c, err := m.live.checker()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := c.Check(img, liveness.FromDetector(face.Box))
	if err != nil {
		return nil, fmt.Errorf("%w: liveness: %w", ErrInternal, err)
	}
	return &LivenessResult{Live: r.Live, Score: r.Score, Threshold: r.Threshold, Face: face, Models: r.Models}, nil
}
