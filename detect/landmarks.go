package detect

import (
	"math"

	"gonum.org/v1/gonum/spatial/r2"
)

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
