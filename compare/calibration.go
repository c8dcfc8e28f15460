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

// Default is the calibration used when none is given.
//
// PROVISIONAL. These constants are not yet fitted on LFW: the end-to-end
// pipeline (detect → align → embed) was not available when they were set.
// They were chosen from the golden MobileFaceNet data in
// ../shared/golden/mobilefacenet/index.json (two genuine LFW pairs at cosine
// 0.686 and 0.920; the highest impostor pair among those crops is 0.207) and
// from published MobileFaceNet verification thresholds, anchored so that
//
//	cosine 0.45 → 70 % (the default threshold)
//	cosine 0.65 → 95 % (the strictest threshold)
//
// i.e. A = (logit(0.95) − logit(0.70)) / 0.20 and B = logit(0.70) − 0.45·A.
// With them the golden genuine pairs score 96.5 % and 99.7 % and the golden
// impostor pairs at most 15.4 %.
//
// To refit on LFW once the pipeline works end to end (see doc.go,
// "Refitting"): run the LFW tool to get the pair cosines, then
// FitAnchored(cos, same, CosineAtFAR(cos, same, 0.001), 70), which puts the
// default threshold at the cosine where 0.1 % of impostor pairs are
// accepted.
var Default = Calibration{
	A: 10.48570559389618,
	B: -3.871269656866078,
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
