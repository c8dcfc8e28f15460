package detect

import (
	"context"
	"image"
	"math"
	"slices"

	pigo "github.com/esimov/pigo/core"
	"gonum.org/v1/gonum/spatial/r2"
)

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
