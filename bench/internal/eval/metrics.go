package eval

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/facematch/facematch/compare"
)

// ErrInput is wrapped by errors about metric inputs: slices of different
// lengths, no pairs, a class with no pair, a non-finite score.
var ErrInput = errors.New("eval: invalid input")

func check(scores []float64, same []bool, needBoth bool) (npos, nneg int, err error) {
	if len(scores) != len(same) {
		return 0, 0, fmt.Errorf("%w: %d scores, %d labels", ErrInput, len(scores), len(same))
	}
	if len(scores) == 0 {
		return 0, 0, fmt.Errorf("%w: no pairs", ErrInput)
	}
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, 0, fmt.Errorf("%w: score %d is %v", ErrInput, i, s)
		}
		if same[i] {
			npos++
		} else {
			nneg++
		}
	}
	if needBoth && (npos == 0 || nneg == 0) {
		return 0, 0, fmt.Errorf("%w: %d genuine and %d impostor pairs; need both", ErrInput, npos, nneg)
	}
	return npos, nneg, nil
}

// order returns the indices of scores sorted by increasing score (stable).
func order(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	return idx
}

// Accuracy is the fraction of pairs classified correctly by the rule
// "match when score >= threshold".
func Accuracy(scores []float64, same []bool, threshold float64) (float64, error) {
	if _, _, err := check(scores, same, false); err != nil {
		return 0, err
	}
	ok := 0
	for i, s := range scores {
		if (s >= threshold) == same[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(scores)), nil
}

// BestThreshold returns the threshold that maximises Accuracy on the given
// pairs and that accuracy. Candidate thresholds are the midpoints between
// consecutive distinct scores plus one below the lowest and one above the
// highest score; among equally good candidates the lowest wins.
func BestThreshold(scores []float64, same []bool) (threshold, accuracy float64, err error) {
	npos, _, err := check(scores, same, false)
	if err != nil {
		return 0, 0, err
	}
	idx := order(scores)
	n := len(idx)
	// Threshold below everything: every genuine pair accepted, every impostor rejected wrongly.
	correct := npos
	best := correct
	lo := scores[idx[0]]
	bestT := lo - 1
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			if same[idx[j]] {
				correct-- // genuine now rejected
			} else {
				correct++ // impostor now rejected
			}
			j++
		}
		// Threshold just above scores[idx[i]] (and below the next distinct score).
		var t float64
		if j < n {
			t = (scores[idx[i]] + scores[idx[j]]) / 2
			if !(t > scores[idx[i]]) { // adjacent floats: the midpoint rounds down
				t = scores[idx[j]]
			}
		} else {
			t = scores[idx[i]] + 1
		}
		if correct > best {
			best, bestT = correct, t
		}
		i = j
	}
	return bestT, float64(best) / float64(n), nil
}

// FoldResult is the outcome of KFold.
type FoldResult struct {
	Folds      []int     // fold numbers, increasing
	Accuracy   []float64 // held-out accuracy per fold
	Thresholds []float64 // threshold chosen on the other folds, per fold
	Mean, Std  float64   // mean and population standard deviation of Accuracy
}

// KFold runs the LFW verification protocol: for each fold it chooses the
// best threshold (BestThreshold) on the pairs of all other folds and measures
// the accuracy on the fold itself. With a single fold the threshold is chosen
// on that same fold.
func KFold(scores []float64, same []bool, folds []int) (*FoldResult, error) {
	if _, _, err := check(scores, same, false); err != nil {
		return nil, err
	}
	if len(folds) != len(scores) {
		return nil, fmt.Errorf("%w: %d scores, %d folds", ErrInput, len(scores), len(folds))
	}
	var ids []int
	seen := map[int]bool{}
	for _, f := range folds {
		if !seen[f] {
			seen[f] = true
			ids = append(ids, f)
		}
	}
	sort.Ints(ids)
	res := &FoldResult{Folds: ids}
	for _, f := range ids {
		var trS, teS []float64
		var trL, teL []bool
		for i, g := range folds {
			if g == f {
				teS, teL = append(teS, scores[i]), append(teL, same[i])
			} else {
				trS, trL = append(trS, scores[i]), append(trL, same[i])
			}
		}
		if len(ids) == 1 {
			trS, trL = teS, teL
		}
		t, _, err := BestThreshold(trS, trL)
		if err != nil {
			return nil, err
		}
		acc, err := Accuracy(teS, teL, t)
		if err != nil {
			return nil, err
		}
		res.Thresholds = append(res.Thresholds, t)
		res.Accuracy = append(res.Accuracy, acc)
	}
	for _, a := range res.Accuracy {
		res.Mean += a
	}
	res.Mean /= float64(len(res.Accuracy))
	for _, a := range res.Accuracy {
		res.Std += (a - res.Mean) * (a - res.Mean)
	}
	res.Std = math.Sqrt(res.Std / float64(len(res.Accuracy)))
	return res, nil
}

// ROCPoint is one operating point: with "match when score >= Threshold",
// FAR is the fraction of impostor pairs accepted and TAR the fraction of
// genuine pairs accepted.
type ROCPoint struct {
	Threshold float64
	FAR, TAR  float64
}

// ROC returns the operating points for every distinct score, by decreasing
// threshold, starting at (0, 0) (a threshold above every score) and ending at
// (1, 1). Both classes must be present.
func ROC(scores []float64, same []bool) ([]ROCPoint, error) {
	npos, nneg, err := check(scores, same, true)
	if err != nil {
		return nil, err
	}
	idx := order(scores)
	n := len(idx)
	hi := scores[idx[n-1]]
	pts := []ROCPoint{{Threshold: math.Nextafter(hi, math.Inf(1))}}
	tp, fp := 0, 0
	for j := n - 1; j >= 0; {
		s := scores[idx[j]]
		for j >= 0 && scores[idx[j]] == s {
			if same[idx[j]] {
				tp++
			} else {
				fp++
			}
			j--
		}
		pts = append(pts, ROCPoint{Threshold: s, FAR: float64(fp) / float64(nneg), TAR: float64(tp) / float64(npos)})
	}
	return pts, nil
}

// AUC returns the area under the ROC curve: the probability that a random
// genuine pair scores higher than a random impostor pair, ties counting one
// half (the Mann-Whitney U statistic normalised).
func AUC(scores []float64, same []bool) (float64, error) {
	npos, nneg, err := check(scores, same, true)
	if err != nil {
		return 0, err
	}
	idx := order(scores)
	n := len(idx)
	var rankSum float64 // sum of (1-based, tie-averaged) ranks of genuine pairs
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+1+j) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			if same[idx[k]] {
				rankSum += avg
			}
		}
		i = j
	}
	p, q := float64(npos), float64(nneg)
	return (rankSum - p*(p+1)/2) / (p * q), nil
}

// TARAtFAR returns the highest true-accept rate reachable with a
// false-accept rate <= far, and the threshold (a pair's score; match when
// score >= threshold) that reaches it. When even the strictest distinct
// score exceeds far, TAR is 0 and the threshold lies just above the highest
// score.
func TARAtFAR(scores []float64, same []bool, far float64) (tar, threshold float64, err error) {
	pts, err := ROC(scores, same)
	if err != nil {
		return 0, 0, err
	}
	best := pts[0]
	for _, p := range pts {
		if p.FAR > far {
			break
		}
		best = p
	}
	return best.TAR, best.Threshold, nil
}

// CalibrationRow is the error profile of one threshold on the calibrated
// percentage: a pair matches when pct(score), rounded to two decimals,
// reaches Threshold (compare.Meets, the product's decision rule).
type CalibrationRow struct {
	Threshold    float64 `json:"threshold"`
	FAR          float64 `json:"far"` // false accepts / impostor pairs
	FRR          float64 `json:"frr"` // false rejects / genuine pairs
	FalseAccepts int     `json:"false_accepts"`
	FalseRejects int     `json:"false_rejects"`
	Genuine      int     `json:"genuine"`
	Impostor     int     `json:"impostor"`
}

// CalibrationThresholds returns the thresholds reported by default: the
// KYC range facematch accepts, [0.70, 0.95], in steps of 0.10.
func CalibrationThresholds() []float64 { return []float64{0.70, 0.80, 0.90, 0.95} }

// Calibration maps every score through pct (score → percentage in [0, 100],
// monotone) and returns FAR and FRR for each threshold.
func Calibration(scores []float64, same []bool, pct func(float64) float64, thresholds []float64) ([]CalibrationRow, error) {
	npos, nneg, err := check(scores, same, true)
	if err != nil {
		return nil, err
	}
	rows := make([]CalibrationRow, 0, len(thresholds))
	p := make([]float64, len(scores))
	for i, s := range scores {
		p[i] = pct(s)
	}
	for _, t := range thresholds {
		r := CalibrationRow{Threshold: t, Genuine: npos, Impostor: nneg}
		for i := range p {
			match := compare.Meets(p[i], t)
			if match && !same[i] {
				r.FalseAccepts++
			}
			if !match && same[i] {
				r.FalseRejects++
			}
		}
		r.FAR = float64(r.FalseAccepts) / float64(nneg)
		r.FRR = float64(r.FalseRejects) / float64(npos)
		rows = append(rows, r)
	}
	return rows, nil
}
