package detect

import (
	"context"
	"errors"
	"fmt"
	"github.com/facematch/facematch/internal/onet"
	"image"
	"math"
	"slices"

	pigo "github.com/esimov/pigo/core"
	"gonum.org/v1/gonum/spatial/r2"

	"github.com/facematch/facematch/weights"
)

// Errors returned by New and Detect. Test with errors.Is.
var (
	// ErrNilImage: Detect was given a nil image.
	ErrNilImage = errors.New("detect: nil image")
	// ErrEmptyImage: the image has no pixels, or is smaller than
	// MinImageSide on a side (too small to hold a detectable face).
	ErrEmptyImage = errors.New("detect: image is empty or too small")
	// ErrInvalidOptions: an Options field is out of range (wrapped with
	// the field name).
	ErrInvalidOptions = errors.New("detect: invalid options")
	// ErrInternal: a bundled cascade failed to load or a third-party
	// routine panicked (wrapped with detail). It means a bug, not bad input.
	ErrInternal = errors.New("detect: internal error")
)

// MinImageSide is the smallest width or height Detect accepts.
const MinImageSide = 24

// Face is one detected face.
type Face struct {
	// Box is the square face window in the coordinates of the image passed
	// to Detect (including its Bounds().Min offset). For faces found on a
	// rotated copy it is the same-size square centred on the face. A face
	// that fills or crosses the frame (see Options.NoPadding) has a box
	// reaching outside the image bounds: clip it with Intersect before
	// using it to index pixels. Its Landmarks may lie outside too;
	// package align fills the pixels outside the image with black.
	Box image.Rectangle
	// Score is the detection score: the sum of the pigo cascade scores (Q)
	// of the raw windows merged into this face. Faces below
	// Options.MinScore are dropped unless ONet confirms them (see
	// Options.MinExtraFaceProb and MinFaceProb); real faces typically score
	// well above it (see Options.MinScore).
	Score float32
	// Landmarks are, in image coordinates (pixel centres at integers):
	// left eye centre, right eye centre, nose tip, left mouth corner,
	// right mouth corner, left/right as seen in the image.
	Landmarks [5]r2.Vec
	// Angle is the in-plane rotation in degrees of the image copy the face
	// was found on (0 for upright; see Options.Angles).
	Angle float64
	// Orientation is the quarter turn, in degrees clockwise (0, 90, 180 or
	// 270), by which the face lies turned in the input: 90 means its top
	// points to the right of the image. Turning the input back by
	// Orientation degrees counter-clockwise makes the face upright (AWS
	// Rekognition calls this OrientationCorrection). It is not 0 only when
	// no face was found on the image as it is (see Options.NoQuarterTurns);
	// Detect then tries 90, 270 and 180 in turn and reports the first that
	// gives faces, so all faces of one result share it. Box and Landmarks
	// are in the input's coordinates all the same, and the landmarks keep
	// the face's own order (left eye as seen on the upright face), so
	// package align turns the face upright by itself. Angle is in-plane
	// on top of it.
	Orientation int
	// Mirrored says the face was found on the mirror image (see
	// Options.NoMirror); box and landmarks are in the input's coordinates
	// and order all the same.
	Mirrored bool
}

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

// Detector finds faces and their five landmarks. It is immutable after New
// and safe for concurrent use.
type Detector struct {
	opts   Options
	face   *faceCascade
	pigo   *pigo.Pigo // only for ClusterDetections, which reads no cascade
	pupil  *treeCascade
	nose   *treeCascade
	mouth  *treeCascade
	angles []float64
	onet   *onet.Net // nil with LandmarksCascade
}

// New returns a Detector using the cascades bundled in package weights.
func New(opts *Options) (*Detector, error) {
	o := withDefaults(opts)
	if err := o.check(); err != nil {
		return nil, err
	}
	d := &Detector{opts: o}
	if !o.NoRotation {
		d.angles = DefaultAngles()
		if o.Angles != nil {
			d.angles = o.Angles
		}
		for _, a := range d.angles {
			if !(a >= -180 && a <= 180) || a == 0 {
				return nil, badOption("Angles", a)
			}
		}
		d.angles = slices.Clone(d.angles)
	}
	var err error
	switch o.Landmarks {
	case LandmarksONet:
		if o.MinFaceProb == 0 {
			o.MinFaceProb = DefaultMinFaceProb
		}
		if !(o.MinFaceProb > 0 && o.MinFaceProb < 1) {
			return nil, badOption("MinFaceProb", o.MinFaceProb)
		}
		d.opts.MinFaceProb = o.MinFaceProb
		if o.MinExtraFaceProb == 0 {
			o.MinExtraFaceProb = DefaultMinExtraFaceProb
		}
		if !(o.MinExtraFaceProb > 0 && o.MinExtraFaceProb < 1) {
			return nil, badOption("MinExtraFaceProb", o.MinExtraFaceProb)
		}
		d.opts.MinExtraFaceProb = o.MinExtraFaceProb
		if d.onet, err = onet.New(weights.ONet()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInternal, err)
		}
	case LandmarksCascade:
	default:
		return nil, badOption("Landmarks", o.Landmarks)
	}
	if err := d.loadCascades(); err != nil {
		return nil, err
	}
	return d, nil
}

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

// loadCascades parses the bundled pico cascades into d.
func (d *Detector) loadCascades() error {
	var err error
	if d.face, err = parseFaceCascade(weights.FaceFinder()); err != nil {
		return err
	}
	d.pigo = pigo.NewPigo()
	if d.pupil, err = parseTreeCascade("puploc", weights.PupilLocator()); err != nil {
		return fmt.Errorf("%w: %v", ErrInternal, err)
	}
	lps := weights.LandmarkCascades()
	if d.nose, err = parseTreeCascade("lp93", lps["lp93"]); err != nil {
		return fmt.Errorf("%w: %v", ErrInternal, err)
	}
	if d.mouth, err = parseTreeCascade("lp84", lps["lp84"]); err != nil {
		return fmt.Errorf("%w: %v", ErrInternal, err)
	}
	return nil
}

// Detect finds the faces in img, largest box first (ties: higher score,
// then top-left first). It returns an empty slice and no error when there is
// no face. Output depends only on img and the options.
func (d *Detector) Detect(img image.Image) ([]Face, error) {
	return d.DetectContext(context.Background(), img)
}

// DetectContext is Detect stopping early when ctx is done: it looks at ctx
// while converting the image (every few rows), before each window size of
// every scan, between the stages (mirror, padding, quarter turns, in-plane
// rotations) and before each ONet call, so a deadline is met within well
// under 100 ms of work on a 1024-pixel working copy, and returns ctx.Err().
// With a live ctx its output is Detect's, bit for bit.
func (d *Detector) DetectContext(ctx context.Context, img image.Image) (faces []Face, err error) {
	if img == nil {
		return nil, ErrNilImage
	}
	b := img.Bounds()
	if b.Dx() < MinImageSide || b.Dy() < MinImageSide {
		return nil, fmt.Errorf("%w: %dx%d", ErrEmptyImage, b.Dx(), b.Dy())
	}
	defer func() {
		if r := recover(); r != nil {
			faces, err = nil, fmt.Errorf("%w: %v", ErrInternal, r)
		}
	}()
	g, sx, sy := toGray(ctx, img, d.opts.MaxSide)
	toInput := func(x, y float64) r2.Vec {
		// Working pixel x covers input [x*sx, (x+1)*sx); its centre
		// (x+0.5)*sx lies at input pixel coordinate (x+0.5)*sx-0.5.
		return r2.Vec{X: (x+0.5)*sx - 0.5 + float64(b.Min.X), Y: (y+0.5)*sy - 0.5 + float64(b.Min.Y)}
	}
	faces = d.search(ctx, img, g, toInput)
	if err := ctx.Err(); err != nil {
		// A stage stopped early: what was found is incomplete.
		return nil, err
	}
	faces = dedupe(faces)
	sortFaces(faces)
	if faces == nil {
		faces = []Face{}
	}
	return faces, nil
}

// search runs the stages on the grey working copy g of img (toInput maps
// g's pixel coordinates to img's): the fast ones on the image as it is,
// then on its quarter turns while nothing is found, then the slow ones.
func (d *Detector) search(ctx context.Context, img image.Image, g grayImage, toInput func(x, y float64) r2.Vec) []Face {
	faces, p := d.detectTurned(ctx, img, g, 0, toInput)
	// Quarter turns: a photo stored sideways or upside down (EXIF
	// orientation stripped). The sideways turns come first: they are the
	// common case of a phone upload. They run before the in-plane
	// rotations, which would otherwise find a quarter-turned face at 40
	// degrees with poor landmarks.
	for _, k := range quarterTurns {
		if len(faces) > 0 || d.opts.NoQuarterTurns || ctx.Err() != nil {
			break
		}
		tg, toG := g.turned(k)
		faces, _ = d.detectTurned(ctx, img, tg, 90*k, func(x, y float64) r2.Vec { return toInput(toG(x, y)) })
	}
	switch {
	case len(faces) == 0:
		faces = d.retry(ctx, img, p)
	case faces[0].Orientation == 0 && allCrossBorder(faces, img.Bounds()):
		// Only faces crossing the border were found: often a head cut
		// by the frame beside the subject, whose face pico scores weakly
		// (LFW's Tung_Chee-hwa_0001 has one at 51.8 at its left edge,
		// and the subject only turned by 20°). The slow stages look for
		// more; what they find inside a border face is that face.
		for _, f := range d.retry(ctx, img, p) {
			if !insideAny(f.Box, faces) {
				faces = append(faces, f)
			}
		}
	}
	return faces
}

// sortFaces orders faces as Detect returns them: largest box first, then
// higher score, then top-left first.
func sortFaces(faces []Face) {
	slices.SortStableFunc(faces, func(p, q Face) int {
		if a, b := p.Box.Dx()*p.Box.Dy(), q.Box.Dx()*q.Box.Dy(); a != b {
			return b - a
		}
		if p.Score != q.Score {
			if p.Score > q.Score {
				return -1
			}
			return 1
		}
		if p.Box.Min.Y != q.Box.Min.Y {
			return p.Box.Min.Y - q.Box.Min.Y
		}
		return p.Box.Min.X - q.Box.Min.X
	})
}

// detectGray runs the face cascade and the landmark cascades on g. toSrc (nil
// for the upright image) maps g's pixel coordinates to those of the upright
// working image, toInput maps those to input coordinates.
//
// The best face must score cut, the others extra. mirrored says g is the
// mirror image, so the landmarks' left and right swap when mapped back.
func (d *Detector) detectGray(ctx context.Context, g *grayImage, lo int, angle float64, cut, extra float32, mirrored bool, toSrc func(x, y float64) (float64, float64), toInput func(x, y float64) r2.Vec) []Face {
	return d.toFaces(g, d.windows(ctx, g, lo, cut), angle, cut, extra, mirrored, toSrc, toInput)
}

// toFaces is detectGray on the merged windows dets of g.
func (d *Detector) toFaces(g *grayImage, dets []pigo.Detection, angle float64, cut, extra float32, mirrored bool, toSrc func(x, y float64) (float64, float64), toInput func(x, y float64) r2.Vec) []Face {
	var best float32
	for _, det := range dets {
		best = max(best, det.Q)
	}
	var faces []Face
	var mg *grayImage // mirror image of g for MirrorLandmarks, made on first use
	for _, det := range dets {
		if det.Q < cut || det.Q < extra && det.Q < best {
			continue
		}
		if mg == nil && d.opts.MirrorLandmarks {
			m, _ := g.mirrored()
			mg = &m
		}
		// With ONet the cascade points are only needed for the tilt of
		// faces found rotated; upright faces get theirs from refine.
		var lm [5]r2.Vec
		if d.onet == nil || angle != 0 {
			lm = d.landmarks(g, mg, float32(det.Row), float32(det.Col), float32(det.Scale))
		}
		f := Face{Score: det.Q, Angle: angle}
		mapPt := func(x, y float64) r2.Vec {
			if toSrc != nil {
				x, y = toSrc(x, y)
			}
			return toInput(x, y)
		}
		for i, p := range lm {
			f.Landmarks[i] = mapPt(p.X, p.Y)
		}
		if mirrored {
			f.Mirrored = true
			l := &f.Landmarks
			l[0], l[1], l[3], l[4] = l[1], l[0], l[4], l[3]
		}
		// The window covers working pixels [col-s/2, col+s/2); map its centre
		// and keep it square in input pixels.
		half := float64(det.Scale) / 2
		c := mapPt(float64(det.Col)-0.5, float64(det.Row)-0.5)
		p0 := toInput(-0.5, -0.5)
		p1 := toInput(half-0.5, half-0.5)
		// (Absolute values: on a quarter-turned raster x maps to ±y.)
		hs := (math.Abs(p1.X-p0.X) + math.Abs(p1.Y-p0.Y)) / 2
		f.Box = image.Rect(
			int(math.Round(c.X+0.5-hs)), int(math.Round(c.Y+0.5-hs)),
			int(math.Round(c.X+0.5+hs)), int(math.Round(c.Y+0.5+hs)))
		faces = append(faces, f)
	}
	return faces
}

// sizes returns the window size range scanned on g: from MinFaceFraction
// of its shorter side (at least MinFaceSize) to MaxFaceFraction of it.
func (d *Detector) sizes(g *grayImage) (minSize, maxSize int) {
	short := min(g.W, g.H)
	minSize = max(d.opts.MinFaceSize, int(math.Round(d.opts.MinFaceFraction*float64(short))))
	maxSize = min(short-2, int(d.opts.MaxFaceFraction*float64(short)))
	return minSize, maxSize
}

// rawWindows scans g from window size lo (0: sizes' minimum) and returns
// the windows scoring above zero, unmerged.
func (d *Detector) rawWindows(ctx context.Context, g *grayImage, lo int) []pigo.Detection {
	minSize, maxSize := d.sizes(g)
	if lo > 0 {
		minSize = lo
	}
	if minSize > maxSize {
		return nil
	}
	return d.face.scan(ctx, g, minSize, maxSize, d.opts.ShiftFactor, d.opts.ScaleFactor)
}

// windows scans g (from window size lo, see rawWindows) and returns the
// merged face windows scoring at least cut.
func (d *Detector) windows(ctx context.Context, g *grayImage, lo int, cut float32) []pigo.Detection {
	return d.cluster(d.rawWindows(ctx, g, lo), cut)
}

// cluster merges raw windows (reordering dets) and returns the merged
// windows scoring at least cut.
func (d *Detector) cluster(dets []pigo.Detection, cut float32) []pigo.Detection {
	// pigo sorts with an unstable sort; pre-sorting on all fields makes the
	// clustering input, and so its output, a function of the image alone.
	slices.SortFunc(dets, func(p, q pigo.Detection) int {
		switch {
		case p.Q != q.Q:
			if p.Q < q.Q {
				return -1
			}
			return 1
		case p.Scale != q.Scale:
			return p.Scale - q.Scale
		case p.Row != q.Row:
			return p.Row - q.Row
		}
		return p.Col - q.Col
	})
	dets = d.pigo.ClusterDetections(dets, d.opts.IoUThreshold)
	return slices.DeleteFunc(dets, func(det pigo.Detection) bool { return det.Q < cut })
}

// landmarks returns the five points in g's pixel coordinates (pixel centres
// at integers) for the face window centred at (row, col) of size s (pigo's
// cascade coordinates, in which pixel k covers [k, k+1)).
//
// The cascades were trained on upright faces, so when the eyes found on the
// first pass tilt by more than maxUprightTilt, the face is resampled onto a
// patch turned by that tilt and the cascades run again there.
//
// With mg (the mirror image of g) not nil the same is done on the mirrored
// face and the two results are averaged: the cascades are not left-right
// symmetric, so their errors on the two views are partly independent.
func (d *Detector) landmarks(g, mg *grayImage, row, col, s float32) [5]r2.Vec {
	lm := correctLandmarks(d.cascadeLandmarks(g, row, col, s), row, col, s)
	if mg == nil {
		return lm
	}
	// Window centre column c (pixel k covers [k, k+1)) mirrors to W-c.
	mcol := float32(g.W) - col
	ml := correctLandmarks(d.cascadeLandmarks(mg, row, mcol, s), row, mcol, s)
	w1 := float64(g.W - 1)
	// Mirrored left is input right: swap while mapping x back.
	for k, m := range [5]int{1, 0, 2, 4, 3} {
		p := ml[m]
		lm[k] = r2.Vec{X: (lm[k].X + w1 - p.X) / 2, Y: (lm[k].Y + p.Y) / 2}
	}
	return lm
}

// cascadeLandmarks is landmarks without the geometric correction.
func (d *Detector) cascadeLandmarks(g *grayImage, row, col, s float32) [5]r2.Vec {
	lm := d.rawLandmarks(g, row, col, s)
	tilt := math.Atan2(lm[1].Y-lm[0].Y, lm[1].X-lm[0].X)
	if math.Abs(tilt) > maxUprightTilt && math.Abs(tilt) < math.Pi/3 {
		side := int(2*s) + 2
		p, toSrc := g.patch(float64(col)-0.5, float64(row)-0.5, tilt, side)
		c := float32(side-1)/2 + 0.5
		plm := d.rawLandmarks(&p, c, c, s)
		for k, q := range plm {
			x, y := toSrc(q.X, q.Y)
			lm[k] = r2.Vec{X: x, Y: y}
		}
	}
	return lm
}

// maxUprightTilt is the eye-line tilt (radians) above which landmarks are
// recomputed on a de-rotated patch.
const maxUprightTilt = 8 * math.Pi / 180

// rawLandmarks runs the cascades once: pupils from the face window (pigo's
// offsets), then nose tip and mouth corners from the eyes (pigo's
// GetLandmarkPoint geometry; the mirrored right-corner cascade starts from the
// mirrored point, which measured lower error than pigo's shared start).
func (d *Detector) rawLandmarks(g *grayImage, row, col, s float32) [5]r2.Vec {
	ler, lec := d.pupil.locate(g, row-0.075*s, col-0.175*s, 0.25*s, false)
	rer, rec := d.pupil.locate(g, row-0.075*s, col+0.185*s, 0.25*s, false)
	dist := float32(math.Hypot(float64(ler-rer), float64(lec-rec)))
	mr, mc := (ler+rer)/2, (lec+rec)/2
	r0, s0 := mr+0.25*dist, 3*dist
	nr, nc := d.nose.locate(g, r0, mc+0.15*dist, s0, false)
	lmr, lmc := d.mouth.locate(g, r0, mc+0.15*dist, s0, false)
	rmr, rmc := d.mouth.locate(g, r0, mc-0.15*dist, s0, true)
	// Cascade positions are continuous with pixel k covering [k, k+1);
	// subtract 0.5 for pixel-centre coordinates.
	pt := func(r, c float32) r2.Vec { return r2.Vec{X: float64(c) - 0.5, Y: float64(r) - 0.5} }
	return [5]r2.Vec{pt(ler, lec), pt(rer, rec), pt(nr, nc), pt(lmr, lmc), pt(rmr, rmc)}
}

// quarterTurns are the quarter turns (k·90° clockwise, see Face.Orientation)
// tried, in order, when nothing is found as the image is.
var quarterTurns = []int{1, 3, 2}

// minSureProb is the ONet face probability under which a face the cascade
// scores from MinExtraScore to MinRotatedScore is dropped.
const minSureProb = 0.1

// detRect is the pixel square of a cascade window.
func detRect(det pigo.Detection) image.Rectangle {
	h := det.Scale / 2
	return image.Rect(det.Col-h, det.Row-h, det.Col-h+det.Scale, det.Row-h+det.Scale)
}

// pass is what the fast stages of one orientation leave for the slow ones.
type pass struct {
	g       grayImage                 // working raster, padded when the padding ran
	toInput func(x, y float64) r2.Vec // g's pixel coordinates to the input's
	upright []pigo.Detection          // merged windows of g scoring fallbackScore
	// With the padding run: the padded raster, the map from its pixel
	// coordinates to the input's, and its merged windows crossing the
	// border (scoring fallbackScore).
	pg       *grayImage
	toPadded func(x, y float64) r2.Vec
	border   []pigo.Detection
	orient   int
}

// detectTurned runs the fast stages on the grey working image g (the input
// turned by orient degrees, see Face.Orientation; toInput maps g's pixel
// coordinates to the input's): the scan, the windows crossing the border
// when nothing confident was found, the mirror image, and with ONet the
// check of doubtful faces. The in-plane rotations and ONet's look at weak
// windows are left to retry.
func (d *Detector) detectTurned(ctx context.Context, img image.Image, g grayImage, orient int, toInput func(x, y float64) r2.Vec) ([]Face, *pass) {
	minSize, _ := d.sizes(&g)
	// With ONet, the upright scan keeps the weak windows too: those beside a
	// found face are verified below.
	uprightCut := d.opts.MinScore
	if d.onet != nil {
		uprightCut = min(uprightCut, fallbackScore)
	}
	raw := d.rawWindows(ctx, &g, 0)
	p := &pass{g: g, toInput: toInput, orient: orient}
	p.upright = d.cluster(slices.Clone(raw), uprightCut)
	faces := d.toFaces(&g, p.upright, 0, d.opts.MinScore, d.opts.MinExtraScore, false, nil, toInput)
	isConfident := func(faces []Face) bool {
		for _, f := range faces {
			if f.Score >= d.opts.MinExtraScore {
				return true
			}
		}
		return false
	}
	confident := isConfident(faces)
	uprightConfident := confident
	// The slower stages run only when the fast path found nothing or
	// nothing confident. First the mirror image (pico's cascade is not
	// left-right symmetric, so it finds some faces only mirrored); faces
	// found there replace weak upright ones.
	if !confident && !d.opts.NoMirror && ctx.Err() == nil {
		mg, toSrc := g.mirrored()
		if mf := d.detectGray(ctx, &mg, 0, 0, d.opts.MinExtraScore, d.opts.MinExtraScore, true, toSrc, toInput); len(mf) > 0 {
			faces, confident = mf, true
		}
	}
	// Then the windows crossing the border (pad.go), also when the mirror
	// image gave a face: on tight crops that is often a partial window,
	// and the border scan finds the whole face with a higher score.
	if !uprightConfident && !d.opts.NoPadding && ctx.Err() == nil {
		dets := d.padStage(ctx, p, minSize, uprightCut)
		if bf := d.toFaces(p.pg, dets, 0, d.opts.MinScore, d.opts.MinExtraScore, false, nil, p.toPadded); len(faces) == 0 || isConfident(bf) && bestScore(bf) > bestScore(faces) {
			faces = bf
			confident = isConfident(faces)
		}
	}
	if d.onet == nil {
		if !confident && orient == 0 {
			// Without ONet the rotations replace weak faces here.
			if rf := d.rotations(ctx, p, d.opts.MinRotatedScore); len(rf) > 0 {
				faces = rf
			}
		}
		if orient != 0 {
			// Without ONet to confirm them, only strong faces count on a
			// turned image.
			faces = slices.DeleteFunc(faces, func(f Face) bool { return f.Score < d.opts.MinRotatedScore })
		}
		return d.orient(faces, orient), p
	}
	if len(faces) == 0 {
		return nil, p
	}
	return d.confirm(ctx, img, d.orient(faces, orient), p), p
}

// padStage scans the windows of p's raster crossing its border (pad.go):
// it pads p.g, records the padded raster, its map to the input and its
// merged border windows in p, and returns the merged windows of the padded
// raster (p's upright clusters and the border ones).
func (d *Detector) padStage(ctx context.Context, p *pass, minSize int, uprightCut float32) []pigo.Detection {
	g, toInput := &p.g, p.toInput
	pad := int(math.Ceil(padFraction * float64(min(g.W, g.H))))
	pg := g.padded(pad)
	inner := image.Rect(pad, pad, pad+g.W, pad+g.H)
	_, maxSize := d.sizes(&pg)
	border := d.cluster(d.face.scanBorder(ctx, &pg, minSize, maxSize, d.opts.ShiftFactor, d.opts.ScaleFactor, inner), uprightCut)
	// The windows inside keep their own clusters (merging the border
	// windows into them moved the boxes of faces well inside the
	// image); a border cluster overlapping one replaces it only when
	// it scores more.
	var dets []pigo.Detection
	for _, r := range p.upright {
		r.Row += pad
		r.Col += pad
		dets = append(dets, r)
	}
	for _, bd := range border {
		bb := detRect(bd)
		keep := true
		for i := 0; i < len(dets); i++ {
			if iou(bb, detRect(dets[i])) > d.opts.IoUThreshold {
				if dets[i].Q >= bd.Q {
					keep = false
					break
				}
				dets = slices.Delete(dets, i, i+1)
				i--
			}
		}
		if keep {
			dets = append(dets, bd)
		}
	}
	p.pg = &pg
	p.toPadded = func(x, y float64) r2.Vec { return toInput(x-float64(pad), y-float64(pad)) }
	for _, det := range dets {
		if !detRect(det).In(inner) {
			p.border = append(p.border, det)
		}
	}
	return dets
}

// confirm runs ONet on the faces the fast stages of p found (not empty,
// their Orientation set): it moves their landmarks to ONet's, drops the
// doubtful ones ONet rejects, and adds the weak upright windows ONet
// confirms beside them.
func (d *Detector) confirm(ctx context.Context, img image.Image, faces []Face, p *pass) []Face {
	orient := p.orient
	var probs []float32
	faces, probs = d.refineAll(ctx, img, faces)
	best := 0
	for i, f := range faces {
		if f.Score > faces[best].Score {
			best = i
		}
	}
	kept := faces[:0]
	for i, f := range faces {
		// A face that is not confident, beside a better one, or found on
		// a turned image must be confirmed by ONet: a window on hair or a
		// patterned background is the usual false face (the hair of
		// obama_partial_face.jpg scores 6.2 and 15.5, a window on the
		// forehead of the 2012 portrait 14.3 beside the face at 67.5).
		// ONet has run anyway, so asking it costs nothing. A face found
		// on the image as it is (not by a retry: the mirror retry finds a
		// 10.2 on the astronaut turned 270°) scoring MinExtraScore (10)
		// is kept on the cascade's word (ONet misses some real faces that
		// are turned, shadowed or small: two of the Solvay group's),
		// unless it overlaps a better face, or scores under
		// MinRotatedScore (20) and ONet is sure it is no face (under
		// minSureProb: the 2012 portrait turned 270° has a window at 11.9
		// that ONet gives 0.06). A first version that required
		// MinFaceProb up to a score of 20 (and merged the border windows
		// into the inner clusters) measured 98.98 % LFW pair accuracy
		// against 99.13 % before; which of the two cost it was not
		// measured separately.
		sure := f.Score >= d.opts.MinExtraScore && orient == 0 && !f.Mirrored && f.Angle == 0 &&
			(f.Score >= d.opts.MinRotatedScore || probs[i] >= minSureProb)
		if sure && i != best {
			for j, o := range faces {
				if j != i && o.Score > f.Score && iou(f.Box, o.Box) > d.opts.IoUThreshold {
					sure = false
					break
				}
			}
		}
		if sure || probs[i] >= d.opts.MinFaceProb {
			kept = append(kept, f)
		}
	}
	faces = kept
	if len(faces) > 0 {
		// Weak upright windows that ONet confirms join the faces found,
		// whichever pass found those.
		faces = append(faces, d.verifyExtra(ctx, img, faces, d.orient(d.toFaces(&p.g, p.upright, 0, fallbackScore, fallbackScore, false, nil, p.toInput), orient))...)
	}
	return faces
}

// rotations runs the in-plane rotated retries of p in turn and returns the
// faces of the first that finds any scoring cut.
func (d *Detector) rotations(ctx context.Context, p *pass, cut float32) []Face {
	return d.rotationsOf(ctx, &p.g, 0, p.toInput, p.orient, cut)
}

// rotationsOf is rotations on the raster g, scanned from window size lo (0:
// from g's size), whose pixel coordinates toInput maps to the input's.
func (d *Detector) rotationsOf(ctx context.Context, g *grayImage, lo int, toInput func(x, y float64) r2.Vec, orient int, cut float32) []Face {
	for _, a := range d.angles {
		if ctx.Err() != nil {
			return nil
		}
		rg, toSrc := g.rotated(a * math.Pi / 180)
		if rf := d.detectGray(ctx, &rg, lo, a, cut, cut, false, toSrc, toInput); len(rf) > 0 {
			return d.orient(rf, orient)
		}
	}
	return nil
}

// retry runs the slow stages on the image as it is (p of orientation 0),
// once neither it nor a quarter turn gave a face: the in-plane rotations,
// then ONet's look at the weak windows, upright, mirrored and rotated.
func (d *Detector) retry(ctx context.Context, img image.Image, p *pass) []Face {
	if d.onet == nil {
		return nil // detectTurned ran the rotations already
	}
	if faces := d.verify(ctx, img, d.rotations(ctx, p, d.opts.MinRotatedScore), d.opts.MinFaceProb); len(faces) > 0 {
		return faces
	}
	// The windows inside the image first: a weak window crossing the
	// border is more often a partial face beside the subject.
	faces := d.verify(ctx, img, d.toFaces(&p.g, p.upright, 0, fallbackScore, fallbackScore, false, nil, p.toInput), d.opts.MinFaceProb)
	if len(faces) == 0 && !d.opts.NoMirror {
		mg, toSrc := p.g.mirrored()
		faces = d.verify(ctx, img, d.detectGray(ctx, &mg, 0, 0, fallbackScore, fallbackScore, true, toSrc, p.toInput), d.opts.MinFaceProb)
	}
	if len(faces) == 0 {
		faces = d.verify(ctx, img, d.rotations(ctx, p, fallbackScore), d.opts.MinFaceProb)
	}
	if len(faces) == 0 && p.pg != nil {
		// Last, the padded image: its weak border windows, then its
		// mirror image and rotations, which reach faces filling the
		// frame (on LFW crops cut 10 % inside the face box, 3.7 % gave
		// no face with these against 7.7 % without).
		minSize, _ := d.sizes(&p.g)
		faces = d.verify(ctx, img, d.toFaces(p.pg, p.border, 0, fallbackScore, fallbackScore, false, nil, p.toPadded), d.opts.MinFaceProb)
		if len(faces) == 0 && !d.opts.NoMirror {
			mg, toSrc := p.pg.mirrored()
			faces = d.verify(ctx, img, d.detectGray(ctx, &mg, minSize, 0, fallbackScore, fallbackScore, true, toSrc, p.toPadded), d.opts.MinFaceProb)
		}
		if len(faces) == 0 {
			faces = d.verify(ctx, img, d.rotationsOf(ctx, p.pg, minSize, p.toPadded, p.orient, fallbackScore), d.opts.MinFaceProb)
		}
	}
	return faces
}

// orient sets the Orientation of faces.
func (d *Detector) orient(faces []Face, orient int) []Face {
	for i := range faces {
		faces[i].Orientation = orient
	}
	return faces
}

// bestScore is the highest Score of faces (0 for none).
func bestScore(faces []Face) float32 {
	var b float32
	for _, f := range faces {
		b = max(b, f.Score)
	}
	return b
}

// allCrossBorder says whether every face's box reaches outside bounds.
func allCrossBorder(faces []Face, bounds image.Rectangle) bool {
	for _, f := range faces {
		if f.Box.In(bounds) {
			return false
		}
	}
	return true
}

// insideAny says whether at least half of box lies inside one of faces.
func insideAny(box image.Rectangle, faces []Face) bool {
	a := box.Dx() * box.Dy()
	for _, f := range faces {
		in := box.Intersect(f.Box)
		if 2*in.Dx()*in.Dy() >= a {
			return true
		}
	}
	return false
}

// sameLandmarks says whether two faces put their points on the same face:
// the mean distance between corresponding points is under a third of the
// eye distance. Overlapping boxes with different points are two people,
// one partly behind the other (LFW's Hugh_Grant_0008 has two boxes at IoU
// 0.6 whose eyes lie 50 px apart).
func sameLandmarks(a, b Face) bool {
	iod := math.Max(r2.Norm(r2.Sub(a.Landmarks[1], a.Landmarks[0])), r2.Norm(r2.Sub(b.Landmarks[1], b.Landmarks[0])))
	var sum float64
	for k := range a.Landmarks {
		sum += r2.Norm(r2.Sub(a.Landmarks[k], b.Landmarks[k]))
	}
	return sum/5 < iod/3
}

// dedupeIoU is the overlap at or above which two final faces are one face
// (when their landmarks agree, see sameLandmarks).
const dedupeIoU = 0.5

// dedupe merges faces overlapping by dedupeIoU or more whose landmarks agree
// into the one whose box is best centred on its landmarks (see offCentre),
// visiting them by score (ties: the earlier). pigo's clustering is greedy and not
// transitive, and the weak-window pass adds ONet-confirmed windows, so two
// boxes on one face can survive (the 2012 portrait scaled to 640 px gave two
// at IoU 0.90).
func dedupe(faces []Face) []Face {
	order := make([]int, len(faces))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		switch {
		case faces[i].Score > faces[j].Score:
			return -1
		case faces[i].Score < faces[j].Score:
			return 1
		}
		return 0
	})
	var out []Face
	for _, i := range order {
		dup := false
		for j, o := range out {
			if iou(faces[i].Box, o.Box) >= dedupeIoU && sameLandmarks(faces[i], o) {
				// Keep the box better centred on its face: ONet's points
				// are the more accurate the closer its crop is to the
				// crops it was trained on.
				if offCentre(faces[i]) < offCentre(o) {
					out[j] = faces[i]
				}
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, faces[i])
		}
	}
	return out
}

// offCentre is the distance from f's box centre to the centroid of its
// landmarks, over the box size.
func offCentre(f Face) float64 {
	var c r2.Vec
	for _, p := range f.Landmarks {
		c = r2.Add(c, r2.Scale(0.2, p))
	}
	bc := r2.Vec{X: float64(f.Box.Min.X+f.Box.Max.X)/2 - 0.5, Y: float64(f.Box.Min.Y+f.Box.Max.Y)/2 - 0.5}
	return r2.Norm(r2.Sub(c, bc)) / float64(max(f.Box.Dx(), 1))
}
