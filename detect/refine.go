package detect

import (
	"context"
	"image"
	"math"

	"github.com/facematch/facematch/internal/onet"
	"gonum.org/v1/gonum/spatial/r2"
)

// LandmarkMethod selects how Detect places the five landmarks.
type LandmarkMethod int

const (
	// LandmarksONet (the default) refines each face with MTCNN's output
	// network (ONet, internal/onet): a 13 M multiply-add CNN that reads a
	// 48x48 crop of the pigo box and returns the five points the embedding
	// model's training data was aligned with. It also verifies weak pigo
	// windows (see Options.MinExtraFaceProb and MinFaceProb).
	//
	// Measured on LFW's 6000 pairs end to end (this detector, alignment,
	// MobileFaceNet with flip; go run ./bench/cmd/lfw): 10-fold accuracy
	// 99.13 % ± 0.65 with ONet landmarks (99.23 % on the pairs where both
	// faces were found) against 97.78 % ± 1.16 with cascade landmarks; the
	// reference 68-point landmarks give 99.18 %.
	LandmarksONet LandmarkMethod = iota
	// LandmarksCascade uses only pigo's landmark cascades (pupils, nose
	// tip, mouth corners) with the geometric correction of correct.go:
	// faster, no CNN, noticeably noisier.
	LandmarksCascade
)

// DefaultMinFaceProb is the default ONet face probability a weak pigo window
// needs to be kept as a face when nothing scored MinScore.
const DefaultMinFaceProb = 0.9

// DefaultMinExtraFaceProb is the default ONet face probability a weak pigo
// window beside a found face needs to be kept as another face. It is higher
// than DefaultMinFaceProb because it is checked on every image with a face.
const DefaultMinExtraFaceProb = 0.99

// fallbackScore is the pigo score cut of the verification pass: far below
// MinScore, since ONet rejects what is not a face.
const fallbackScore = 0.5

// refineAll moves every face's landmarks to ONet's and returns ONet's face
// probability for each.
func (d *Detector) refineAll(ctx context.Context, img image.Image, faces []Face) ([]Face, []float32) {
	probs := make([]float32, len(faces))
	for i := range faces {
		if ctx.Err() != nil {
			break // DetectContext returns ctx.Err()
		}
		faces[i], probs[i] = d.refine(img, faces[i])
	}
	return faces, probs
}

// refine runs ONet on the pigo box and returns the face with ONet's
// landmarks and ONet's face probability.
//
// A second pass on the box ONet regressed (MTCNN's own hand-over) measured
// no better on LFW for twice the cost: landmark NME 0.0456 against 0.0459 on
// 1200 images; end to end 99.12 % pair accuracy and TAR 98.30 % at FAR 1e-3
// against 99.13 % and 98.10 % (and 99.08 % / 97.93 % when the second pass
// ran only on boxes the regression moved by over 15 %): differences of a few
// pairs, within the run-to-run spread of such changes. So there is one pass.
func (d *Detector) refine(img image.Image, f Face) (Face, float32) {
	box := onet.Box{X: float64(f.Box.Min.X), Y: float64(f.Box.Min.Y), Size: float64(f.Box.Dx())}
	switch {
	case f.Angle != 0:
		// Faces found on a rotated copy: turn the crop with the face,
		// using the cascade's eye line (in input coordinates, so quarter
		// turns included) as the face's tilt.
		e := r2.Sub(f.Landmarks[1], f.Landmarks[0])
		box.Angle = math.Atan2(e.Y, e.X)
	case f.Orientation != 0:
		box.Angle = float64(f.Orientation) * math.Pi / 180
	}
	r := d.onet.Run(img, box)
	f.Landmarks = r.Landmarks
	f.onetProb = r.Face
	return f, r.Face
}

// landmarkJitter is how far, as a fraction of the box size, polish moves
// ONet's crop in each of four directions. It was set from the landmark
// error against the LFW reference points on the odd images of the first
// 3000 lines of golden/landmarks/lfw-5point.jsonl (NME 0.0466 with one
// crop, 0.0440 averaging five; a scale jitter added nothing), not from
// pair accuracy.
const landmarkJitter = 0.05

// polish replaces the landmarks of each upright or quarter-turned face the
// cascade found (f.Box is the crop ONet read) with the average of ONet's
// points over that crop and the crop moved by landmarkJitter of its size
// left, right, up and down. ONet's error on one crop is partly noise of
// the crop's placement, which the average cancels: on LFW, NME 0.0466 →
// 0.0440 and pair accuracy 98.97 % → 99.15 %
// (measurements-2026-11-30-proposals.md). It runs on the final faces only, so the checks of weak
// windows cost one ONet pass each. Faces found rotated in-plane or by the
// proposal stage keep their single-crop points (their crop is not f.Box),
// and so do faces whose box crosses the image's border: the moved crops
// reach further over the edge, where ONet sees black, and on faces that
// fill the frame the average measured worse than one crop (ORL 99.47 % →
// 99.28 %, LFW crops at margin 0 98.98 % → 98.88 %).
func (d *Detector) polish(ctx context.Context, img image.Image, faces []Face) {
	for i := range faces {
		f := &faces[i]
		if ctx.Err() != nil {
			return // DetectContext returns ctx.Err()
		}
		if f.Angle != 0 || f.Proposed || !f.Box.In(img.Bounds()) {
			continue
		}
		box := onet.Box{X: float64(f.Box.Min.X), Y: float64(f.Box.Min.Y), Size: float64(f.Box.Dx()), Angle: float64(f.Orientation) * math.Pi / 180}
		sin, cos := math.Sincos(box.Angle)
		sum := f.Landmarks
		for _, dir := range [4][2]float64{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			u, v := dir[0]*landmarkJitter*box.Size, dir[1]*landmarkJitter*box.Size
			jb := box
			jb.X += cos*u - sin*v
			jb.Y += sin*u + cos*v
			lm := d.onet.Run(img, jb).Landmarks
			for k := range sum {
				sum[k] = r2.Add(sum[k], lm[k])
			}
		}
		for k := range sum {
			f.Landmarks[k] = r2.Scale(1.0/5, sum[k])
		}
	}
}

// verify keeps the candidates ONet gives a face probability of at least
// minProb, with refined landmarks.
func (d *Detector) verify(ctx context.Context, img image.Image, cands []Face, minProb float32) []Face {
	var out []Face
	for _, c := range cands {
		if ctx.Err() != nil {
			return nil
		}
		if f, p := d.refine(img, c); p >= minProb {
			out = append(out, f)
		}
	}
	return out
}

// verifyExtra returns the weak candidates beside the faces found that ONet
// accepts with MinExtraFaceProb. pico's cascade misses faces that are turned,
// shadowed or partly covered more often than ONet does: such a face scores
// a weak window, and when a stronger face is in the picture it used to be
// dropped. Candidates overlapping a found face (IoU above maxExtraIoU) are
// the same face and are skipped.
func (d *Detector) verifyExtra(ctx context.Context, img image.Image, found, cands []Face) []Face {
	var out []Face
	for _, c := range cands {
		if ctx.Err() != nil {
			return nil
		}
		if overlaps(c.Box, found) || overlaps(c.Box, out) {
			continue
		}
		if f, p := d.refine(img, c); p >= d.opts.MinExtraFaceProb {
			out = append(out, f)
		}
	}
	return out
}

// maxExtraIoU is the overlap above which a weak window is taken for a face
// already found.
const maxExtraIoU = 0.3

// overlaps says whether box is taken for one of faces (IoU above
// maxExtraIoU).
func overlaps(box image.Rectangle, faces []Face) bool {
	for _, f := range faces {
		if iou(box, f.Box) > maxExtraIoU {
			return true
		}
	}
	return false
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	ia := float64(in.Dx() * in.Dy())
	ua := float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia
	if ua <= 0 {
		return 0
	}
	return ia / ua
}
