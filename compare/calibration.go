package compare

import "math"

// Calibration maps a cosine similarity to a match confidence in [0, 100]
// with a logistic curve:
//
//	percentage = 100 / (1 + exp(-(A*cos + B)))
//
// A > 0 makes the mapping strictly increasing, so thresholds on the
// percentage are thresholds on the cosine (see Calibration.Cosine).
type Calibration struct{ A, B float64 }

// Default is the calibration used when none is given. It was fitted on the
// 6000 LFW pairs of ../shared/datasets/lfw/pairs.txt scored end to end by
// this module's own pipeline (decode → detect → align → embed with flip
// TTA; nothing taken from the dataset's alignment):
//
//	go run ./bench/cmd/lfw --scores /tmp/lfw-scores.tsv
//	go run ./compare/internal/fitcal /tmp/lfw-scores.tsv
//
// fitcal anchors the curve so that 70 % — the default threshold — falls at
// the cosine where 0.1 % of the impostor pairs are accepted
// (CosineAtFAR(cos, same, 0.001) = 0.4284) and fits the slope by logistic
// regression (FitAnchored) on the 5991 pairs where both images had a face
// (scores of the pipeline at commit d4d7d2c with one ONet pass per face, as
// committed next).
// On LFW (all 6000 pairs; a pair with an image where no face was found
// counts as rejected):
//
//	threshold  cosine ≥  FAR (impostors accepted)  FRR (genuine rejected)
//	0.70       0.4284    0.100 % (3 / 3000)         1.90 % (57 / 3000)
//	0.80       0.4550    0.067 % (2 / 3000)         2.53 % (76 / 3000)
//	0.90       0.4951    0.000 % (0 / 3000)         3.70 % (111 / 3000)
//	0.95       0.5320    0.000 % (0 / 3000)         4.90 % (147 / 3000)
//
// 6 of the 57 rejected genuine pairs at 0.70 are pairs where the detector
// found no face in one image (5 of the 7701 images). With the reference
// 68-point landmarks instead of the detector (bench/cmd/lfw --landmarks),
// the same anchoring gives cosine 0.4417 and FRR 1.93 % at FAR 0.100 %,
// so the end-to-end pipeline (pigo boxes, ONet landmarks) does as well as
// the reference alignment at this operating point. compare/CALIBRATION.md has the full
// record.
var Default = Calibration{
	A: 20.25245550631047,
	B: -7.829365233453379,
}

// Percentage returns the match confidence in [0, 100] for cosine cos. It is
// NaN when cos is NaN.
func (c Calibration) Percentage(cos float64) float64 {
	return 100 / (1 + math.Exp(-(c.A*cos + c.B)))
}

// Cosine is the inverse of Percentage: the cosine similarity at which the
// calibrated confidence equals p (0 < p < 100). Percentage(cos) >= p exactly
// when cos >= Cosine(p) for a calibration with A > 0.
func (c Calibration) Cosine(p float64) float64 {
	q := p / 100
	return (math.Log(q/(1-q)) - c.B) / c.A
}

// logit is the inverse of the logistic function.
func logit(p float64) float64 { return math.Log(p / (1 - p)) }
