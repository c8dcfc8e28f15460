package facematch

import (
	"context"
	"fmt"
	"image"
	"image/draw"
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
// its evidence and limits. No face is ErrNoFace. A face in a photo stored
// sideways or upside down (Face.Orientation) is checked turned upright, as
// the networks expect; the crops in Models stay in the decoded image's
// coordinates.
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
	upImg, upBox, back := uprightFace(img, face.Box, face.Orientation)
	r, err := c.Check(upImg, liveness.FromDetector(upBox))
	if err != nil {
		return nil, fmt.Errorf("%w: liveness: %w", ErrInternal, err)
	}
	for i := range r.Models {
		r.Models[i].Crop = back(r.Models[i].Crop)
	}
	return &LivenessResult{Live: r.Live, Score: r.Score, Threshold: r.Threshold, Face: face, Models: r.Models}, nil
}

// uprightFace returns the part of img around box turned upright when the
// face lies turned by orient degrees clockwise (detect.Face.Orientation),
// and box in the returned image's coordinates: the liveness networks were
// trained on upright faces. The part kept reaches 4.5 box sides from the
// face's centre, past what the widest liveness crop (4 box sides, shifted
// inside the image at its edges) reads, so only that much is copied, not
// the whole photo. back maps a rectangle of the returned image to img's
// coordinates. An upright face (orient 0) returns img and box as they are.
func uprightFace(img image.Image, box image.Rectangle, orient int) (image.Image, image.Rectangle, func(image.Rectangle) image.Rectangle) {
	same := func(r image.Rectangle) image.Rectangle { return r }
	k := (orient / 90) & 3 // counter-clockwise quarter turns that make it upright
	if k == 0 || box.Empty() {
		return img, box, same
	}
	c := box.Min.Add(box.Max).Div(2)
	r := 9 * max(box.Dx(), box.Dy()) / 2
	region := image.Rect(c.X-r, c.Y-r, c.X+r, c.Y+r).Intersect(img.Bounds())
	if region.Empty() {
		return img, box, same
	}
	src := image.NewRGBA(image.Rect(0, 0, region.Dx(), region.Dy()))
	draw.Draw(src, src.Bounds(), img, region.Min, draw.Src)
	w, h := region.Dx(), region.Dy()
	b := box.Sub(region.Min)
	var dst *image.RGBA
	var at func(x, y int) (int, int)                       // where src's pixel (x, y) goes
	var turn, unturn func(image.Rectangle) image.Rectangle // rectangles of src to dst and back
	switch k {
	case 1: // 90° counter-clockwise: the right side comes to the top
		dst = image.NewRGBA(image.Rect(0, 0, h, w))
		at = func(x, y int) (int, int) { return y, w - 1 - x }
		turn = func(r image.Rectangle) image.Rectangle { return image.Rect(r.Min.Y, w-r.Max.X, r.Max.Y, w-r.Min.X) }
		unturn = func(r image.Rectangle) image.Rectangle { return image.Rect(w-r.Max.Y, r.Min.X, w-r.Min.Y, r.Max.X) }
	case 2:
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
		at = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
		turn = func(r image.Rectangle) image.Rectangle { return image.Rect(w-r.Max.X, h-r.Max.Y, w-r.Min.X, h-r.Min.Y) }
		unturn = turn
	default: // 270° counter-clockwise, i.e. 90° clockwise
		dst = image.NewRGBA(image.Rect(0, 0, h, w))
		at = func(x, y int) (int, int) { return h - 1 - y, x }
		turn = func(r image.Rectangle) image.Rectangle { return image.Rect(h-r.Max.Y, r.Min.X, h-r.Min.Y, r.Max.X) }
		unturn = func(r image.Rectangle) image.Rectangle { return image.Rect(r.Min.Y, h-r.Max.X, r.Max.Y, h-r.Min.X) }
	}
	b = turn(b)
	for y := range h {
		for x := range w {
			dx, dy := at(x, y)
			copy(dst.Pix[dst.PixOffset(dx, dy):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return dst, b, func(r image.Rectangle) image.Rectangle { return unturn(r).Add(region.Min) }
}
