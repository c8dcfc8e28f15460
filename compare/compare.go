package compare

import (
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// Cosine returns the cosine similarity of a and b, in [-1, 1], computed with
// gonum's BLAS (float32 dot product and norms, the ratio in float64).
//
// It returns 0 when either vector is all zeros and NaN when the lengths
// differ or a vector is empty: neither is a meaningful comparison, and NaN
// never passes a threshold. For vectors that are already L2-normalised (as
// the embed package returns them) the result is their dot product.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	va := blas32.Vector{N: len(a), Inc: 1, Data: a}
	vb := blas32.Vector{N: len(b), Inc: 1, Data: b}
	na := float64(blas32.Nrm2(va))
	nb := float64(blas32.Nrm2(vb))
	if na == 0 || nb == 0 {
		return 0
	}
	c := float64(blas32.Dot(va, vb)) / (na * nb)
	// Rounding can push |c| a hair past 1 for (anti)parallel vectors.
	return math.Max(-1, math.Min(1, c))
}

// RoundPercentage rounds a percentage to two decimals, the precision it is
// reported with and decided on (Meets): the number a user is shown is the
// number the verdict was taken on.
func RoundPercentage(p float64) float64 { return math.Round(p*100) / 100 }

// Meets reports whether percentage p, rounded to two decimals
// (RoundPercentage), reaches threshold t (a fraction: 0.70 means 70.00 %).
// The comparison is made in whole hundredths of a percent, so 70.00 meets
// 0.70 whatever the binary representation of either, and a threshold with
// more than four decimals is rounded up to the next hundredth. NaN never
// meets a threshold.
func Meets(p, t float64) bool {
	if math.IsNaN(p) {
		return false
	}
	return math.Round(p*100) >= thresholdHundredths(t)
}

// thresholdHundredths is t (a fraction) in hundredths of a percent, rounded
// up; the 1e-6 absorbs the representation error of values like 0.7*1e4.
func thresholdHundredths(t float64) float64 { return math.Ceil(t*1e4 - 1e-6) }

// LowestAccepted returns the lowest percentage Meets accepts at threshold t
// (a fraction): the one that rounds up to it, 69.995 for 0.70. A
// calibration anchored there accepts no score below the anchor once
// percentages are rounded.
func LowestAccepted(t float64) float64 { return (thresholdHundredths(t) - 0.5) / 100 }

// MatchCosine returns the smallest cosine similarity accepted at threshold
// t (a fraction) once the percentage is rounded as Meets rounds it: Meets(
// c.Percentage(cos), t) holds exactly when cos >= c.MatchCosine(t), up to
// floating-point rounding at the boundary itself.
func (c Calibration) MatchCosine(t float64) float64 { return c.Cosine(LowestAccepted(t)) }
