package detect

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

	pigo "github.com/esimov/pigo/core"
	"gonum.org/v1/gonum/spatial/r2"

	"github.com/facematch/facematch/internal/mtcnn"
	"github.com/facematch/facematch/internal/onet"
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
	// Proposed says the face was found by the MTCNN proposal stage (see
	// Options.NoProposals), which runs only when the other stages found no
	// face or a doubtful one: Box is ONet's refined box, Landmarks are
	// ONet's, and Score is 0 (pico's cascade did not score it; ONet gave it
	// a face probability of 0.9 or more).
	Proposed bool

	// onetProb is ONet's face probability on the face's crop (0 when ONet
	// did not look at it), for the proposal stage's doubt.
	onetProb float32
}

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
	onet   *onet.Net       // nil with LandmarksCascade
	mtcnn  *mtcnn.Detector // nil with Options.NoProposals or LandmarksCascade
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
	if !o.NoProposals && o.Landmarks == LandmarksONet {
		if d.mtcnn, err = mtcnn.New(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInternal, err)
		}
	}
	if err := d.loadCascades(); err != nil {
		return nil, err
	}
	return d, nil
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

// Detect finds the faces in img, largest first: by the area of the box
// inside the image (ties: larger box, higher score, then top-left first).
// It returns an empty slice and no error when there is no face. Output
// depends only on img and the options.
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
	if d.mtcnn != nil && ctx.Err() == nil {
		if faces, err = d.addProposals(ctx, img, &g, sx, sy, faces); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		// A stage stopped early: what was found is incomplete.
		return nil, err
	}
	faces = dedupe(faces)
	if d.onet != nil {
		d.polish(ctx, img, faces)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	sortFaces(faces, b)
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

// sortFaces orders faces as Detect returns them: largest visible area
// (the part of the box inside bounds, the image) first, then higher score,
// then top-left first. Visible area, not box size, because a head cut by
// the frame is most often a bystander at the edge of the picture, whose
// box (reaching outside the image) can be larger than that of the subject,
// fully in the picture (LFW's Kosuke_Kitajima_0002 and Julianne_Moore_0016).
func sortFaces(faces []Face, bounds image.Rectangle) {
	visible := func(f Face) int {
		r := f.Box.Intersect(bounds)
		return r.Dx() * r.Dy()
	}
	slices.SortStableFunc(faces, func(p, q Face) int {
		if a, b := visible(p), visible(q); a != b {
			return b - a
		}
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
