package calfit

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/optimize"

	"github.com/facematch/facematch/compare"
)

// ErrFitData is returned (wrapped, with detail) by Fit, FitAnchored,
// CosineAtFAR and Rates when the scores are unusable: lengths differ, a
// cosine is not finite, or one of the two classes (genuine / impostor) is
// empty.
var ErrFitData = errors.New("calfit: unusable calibration data")

// Fit fits a Calibration to labelled pair scores by logistic regression
// (Platt scaling): cos[i] is the cosine similarity of pair i and same[i]
// whether its two images show the same person. It minimises the negative
// log-likelihood with gonum/optimize (BFGS), using Platt's smoothed targets
// (N₊+1)/(N₊+2) and 1/(N₋+2) so perfectly separable data still gives finite
// constants. The result is deterministic for a given input.
//
// Plain Platt scaling puts 50 % at the cosine where genuine and impostor
// pairs are equally likely; to place a chosen percentage at a chosen
// operating point instead (the default threshold at FAR 0.1 %), use
// FitAnchored.
func Fit(cos []float64, same []bool) (compare.Calibration, error) {
	if err := checkData(cos, same); err != nil {
		return compare.Calibration{}, err
	}
	tPos, tNeg := plattTargets(same)
	f := func(x []float64) float64 { return nll(cos, same, x[0], x[1], tPos, tNeg, nil) }
	g := func(grad, x []float64) { nll(cos, same, x[0], x[1], tPos, tNeg, grad) }
	// Start from a line through the class means: a sensible, data-derived
	// point in the basin of the (convex) optimum.
	mPos, mNeg := classMeans(cos, same)
	a0 := 1.0
	if d := mPos - mNeg; d > 1e-9 {
		a0 = 4 / d
	}
	b0 := -a0 * (mPos + mNeg) / 2
	x, err := minimize(f, g, []float64{a0, b0})
	if err != nil {
		return compare.Calibration{}, err
	}
	return compare.Calibration{A: x[0], B: x[1]}, nil
}

// FitAnchored fits the slope of a logistic Calibration by maximum likelihood
// under the constraint Percentage(anchorCos) == anchorPct, so that a chosen
// operating point lands exactly on a chosen percentage. The project uses it
// with anchorCos = CosineAtFAR(cos, same, 0.001) and anchorPct = 70, which
// makes the default threshold 0.70 accept 0.1 % of the impostor pairs it was
// fitted on. anchorPct must be in (0, 100).
func FitAnchored(cos []float64, same []bool, anchorCos, anchorPct float64) (compare.Calibration, error) {
	if err := checkData(cos, same); err != nil {
		return compare.Calibration{}, err
	}
	if !(anchorPct > 0 && anchorPct < 100) || math.IsNaN(anchorCos) || math.IsInf(anchorCos, 0) {
		return compare.Calibration{}, fmt.Errorf("%w: anchor (%g, %g%%) out of range", ErrFitData, anchorCos, anchorPct)
	}
	l := logit(anchorPct / 100)
	tPos, tNeg := plattTargets(same)
	// B = l - A*anchorCos; optimise over A only.
	grad2 := make([]float64, 2)
	f := func(x []float64) float64 { return nll(cos, same, x[0], l-x[0]*anchorCos, tPos, tNeg, nil) }
	g := func(grad, x []float64) {
		nll(cos, same, x[0], l-x[0]*anchorCos, tPos, tNeg, grad2)
		grad[0] = grad2[0] - grad2[1]*anchorCos // chain rule through B(A)
	}
	mPos, mNeg := classMeans(cos, same)
	a0 := 1.0
	if d := mPos - mNeg; d > 1e-9 {
		a0 = 4 / d
	}
	x, err := minimize(f, g, []float64{a0})
	if err != nil {
		return compare.Calibration{}, err
	}
	if x[0] <= 0 {
		return compare.Calibration{}, fmt.Errorf("%w: fitted slope %g is not positive (are the labels inverted?)", ErrFitData, x[0])
	}
	return compare.Calibration{A: x[0], B: l - x[0]*anchorCos}, nil
}

// CosineAtFAR returns a cosine threshold t such that at most a fraction far
// of the impostor pairs (same[i] == false) have cos >= t: just above the
// highest impostor score that must be rejected (by 1e-6, or half the gap to
// the next higher impostor score when that is smaller). The margin keeps the
// decision the same after the threshold goes through a Calibration and back
// (Percentage(cos)/100 >= threshold), where rounding could otherwise accept
// an impostor scoring exactly at the threshold.
func CosineAtFAR(cos []float64, same []bool, far float64) (float64, error) {
	if err := checkData(cos, same); err != nil {
		return 0, err
	}
	if !(far >= 0 && far < 1) {
		return 0, fmt.Errorf("%w: FAR %g is not in [0, 1)", ErrFitData, far)
	}
	var imp []float64
	for i, c := range cos {
		if !same[i] {
			imp = append(imp, c)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(imp)))
	// k impostors may be accepted: imp[0..k-1]; imp[k] must be rejected.
	k := int(math.Floor(far * float64(len(imp))))
	if k >= len(imp) {
		k = len(imp) - 1
	}
	margin := 1e-6
	if k > 0 {
		if gap := imp[k-1] - imp[k]; gap > 0 && gap/2 < margin {
			margin = gap / 2
		}
	}
	t := imp[k] + margin
	if t <= imp[k] {
		t = math.Nextafter(imp[k], math.Inf(1))
	}
	return t, nil
}

// Rates reports, for the calibration c and threshold (a fraction, like
// DefaultThreshold), the false-accept rate (impostor pairs whose Percentage
// reaches the threshold) and the false-reject rate (genuine pairs below it),
// with the decision rule of the facematch package: Meets, on the
// percentage rounded to two decimals.
func Rates(cos []float64, same []bool, c compare.Calibration, threshold float64) (far, frr float64, err error) {
	if err := checkData(cos, same); err != nil {
		return 0, 0, err
	}
	var nPos, nNeg, fa, fr int
	for i, x := range cos {
		match := compare.Meets(c.Percentage(x), threshold)
		if same[i] {
			nPos++
			if !match {
				fr++
			}
		} else {
			nNeg++
			if match {
				fa++
			}
		}
	}
	return float64(fa) / float64(nNeg), float64(fr) / float64(nPos), nil
}

func checkData(cos []float64, same []bool) error {
	if len(cos) != len(same) {
		return fmt.Errorf("%w: %d scores but %d labels", ErrFitData, len(cos), len(same))
	}
	var nPos, nNeg int
	for i, c := range cos {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return fmt.Errorf("%w: score %d is %g", ErrFitData, i, c)
		}
		if same[i] {
			nPos++
		} else {
			nNeg++
		}
	}
	if nPos == 0 || nNeg == 0 {
		return fmt.Errorf("%w: need genuine and impostor pairs, have %d and %d", ErrFitData, nPos, nNeg)
	}
	return nil
}

func plattTargets(same []bool) (tPos, tNeg float64) {
	var nPos, nNeg float64
	for _, s := range same {
		if s {
			nPos++
		} else {
			nNeg++
		}
	}
	return (nPos + 1) / (nPos + 2), 1 / (nNeg + 2)
}

func classMeans(cos []float64, same []bool) (mPos, mNeg float64) {
	var sPos, sNeg, nPos, nNeg float64
	for i, c := range cos {
		if same[i] {
			sPos += c
			nPos++
		} else {
			sNeg += c
			nNeg++
		}
	}
	return sPos / nPos, sNeg / nNeg
}

// nll is the mean cross-entropy of the logistic model A*cos+B against the
// Platt targets; when grad is non-nil it also stores d/dA and d/dB.
func nll(cos []float64, same []bool, a, b, tPos, tNeg float64, grad []float64) float64 {
	var sum, ga, gb float64
	for i, c := range cos {
		t := tNeg
		if same[i] {
			t = tPos
		}
		z := a*c + b
		// -[t*log σ(z) + (1-t)*log(1-σ(z))] = softplus(z) - t*z, computed stably.
		sum += softplus(z) - t*z
		if grad != nil {
			d := sigmoid(z) - t
			ga += d * c
			gb += d
		}
	}
	n := float64(len(cos))
	if grad != nil {
		grad[0] = ga / n
		grad[1] = gb / n
	}
	return sum / n
}

func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func minimize(f func([]float64) float64, g func(grad, x []float64), x0 []float64) ([]float64, error) {
	p := optimize.Problem{Func: f, Grad: g}
	settings := &optimize.Settings{GradientThreshold: 1e-10, MajorIterations: 10000}
	res, err := optimize.Minimize(p, x0, settings, &optimize.BFGS{})
	if err != nil && (res == nil || res.Status == optimize.NotTerminated) {
		return nil, fmt.Errorf("calfit: calibration fit did not converge: %v", err)
	}
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("calfit: calibration fit diverged (%v)", res.X)
		}
	}
	return res.X, nil
}

// logit is the inverse of the logistic function.
func logit(p float64) float64 { return math.Log(p / (1 - p)) }
