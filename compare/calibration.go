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

// DefaultCalibration returns the calibration used when none is given: the
// Calibration of DefaultModel (weights/calibration.json). It maps
// Similarity — the cosine after DefaultNormalizer — not the raw Cosine.
// compare/CALIBRATION.md records how it is rebuilt (bench/cmd/calibrate) and
// what it measures on each set.
func DefaultCalibration() Calibration { return defaultModel.Calibration }

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
