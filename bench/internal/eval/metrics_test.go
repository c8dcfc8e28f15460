package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// The four-pair example of the ROC literature: labels 0 0 1 1, scores
// 0.1 0.4 0.35 0.8, AUC 0.75.
var (
	smallScores = []float64{0.1, 0.4, 0.35, 0.8}
	smallSame   = []bool{false, false, true, true}
)

func TestAUC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		same   []bool
		want   float64
	}{
		{"textbook", smallScores, smallSame, 0.75},
		{"separable", []float64{0.9, 0.8, 0.1, 0.2, 0.3}, []bool{true, true, false, false, false}, 1},
		{"inverted", []float64{0.1, 0.2, 0.9, 0.8}, []bool{true, true, false, false}, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false, false}, 0.5},
		// genuine {0.5, 0.7} vs impostor {0.5, 0.2}: pairs (0.5,0.5)=½, (0.5,0.2)=1, (0.7,·)=1+1 → 3.5/4
		{"one tie", []float64{0.5, 0.7, 0.5, 0.2}, []bool{true, true, false, false}, 0.875},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AUC(tc.scores, tc.same)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("AUC = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestROC(t *testing.T) {
	got, err := ROC(smallScores, smallSame)
	if err != nil {
		t.Fatal(err)
	}
	want := []ROCPoint{
		{math.Nextafter(0.8, 2), 0, 0},
		{0.8, 0, 0.5},
		{0.4, 0.5, 0.5},
		{0.35, 0.5, 1},
		{0.1, 1, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestTARAtFAR(t *testing.T) {
	for _, tc := range []struct {
		far, tar, thr float64
	}{
		{0, 0.5, 0.8},
		{0.49, 0.5, 0.8},
		{0.5, 1, 0.35},
		{1, 1, 0.1},
	} {
		tar, thr, err := TARAtFAR(smallScores, smallSame, tc.far)
		if err != nil {
			t.Fatal(err)
		}
		if tar != tc.tar || thr != tc.thr {
			t.Errorf("FAR %v: TAR %v at %v, want %v at %v", tc.far, tar, thr, tc.tar, tc.thr)
		}
	}
	// The best-scoring pair is an impostor: nothing is reachable at FAR 0.
	tar, thr, err := TARAtFAR([]float64{0.9, 0.5}, []bool{false, true}, 0)
	if err != nil || tar != 0 || !(thr > 0.9) {
		t.Errorf("TAR %v at %v (%v), want 0 above 0.9", tar, thr, err)
	}
}

// TestGaussianScores checks AUC and TAR@FAR against closed forms: genuine
// scores ~ N(1, 1), impostor ~ N(0, 1) give AUC = Φ(1/√2) and, at FAR f,
// TAR = 1 - Φ(z_{1-f} - 1).
func TestGaussianScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	scores := make([]float64, 2*n)
	same := make([]bool, 2*n)
	for i := 0; i < n; i++ {
		scores[2*i], same[2*i] = rng.NormFloat64()+1, true
		scores[2*i+1] = rng.NormFloat64()
	}
	std := distuv.UnitNormal
	auc, err := AUC(scores, same)
	if err != nil {
		t.Fatal(err)
	}
	if want := std.CDF(1 / math.Sqrt2); math.Abs(auc-want) > 0.003 {
		t.Errorf("AUC = %.4f, want %.4f", auc, want)
	}
	for _, far := range []float64{1e-1, 1e-2} {
		tar, thr, err := TARAtFAR(scores, same, far)
		if err != nil {
			t.Fatal(err)
		}
		z := std.Quantile(1 - far)
		if want := 1 - std.CDF(z-1); math.Abs(tar-want) > 0.01 {
			t.Errorf("FAR %g: TAR = %.4f, want %.4f", far, tar, want)
		}
		if math.Abs(thr-z) > 0.05 {
			t.Errorf("FAR %g: threshold %.3f, want ≈ %.3f", far, thr, z)
		}
	}
	// Best accuracy threshold for equal classes is the midpoint 0.5, accuracy Φ(0.5).
	thr, acc, err := BestThreshold(scores, same)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(thr-0.5) > 0.05 || math.Abs(acc-std.CDF(0.5)) > 0.003 {
		t.Errorf("best threshold %.3f accuracy %.4f, want ≈ 0.5 and %.4f", thr, acc, std.CDF(0.5))
	}
}

func TestBestThreshold(t *testing.T) {
	for _, tc := range []struct {
		name     string
		scores   []float64
		same     []bool
		thr, acc float64
	}{
		// Candidates: below all 2/4, >0.1 3/4, >0.35 2/4, >0.4 3/4, >0.8 2/4: lowest best wins.
		{"textbook", smallScores, smallSame, 0.225, 0.75},
		{"separable", []float64{0.2, 0.9, 0.6, 0.1}, []bool{false, true, true, false}, 0.4, 1},
		{"all genuine", []float64{0.3, 0.5}, []bool{true, true}, -0.7, 1},
		{"all impostor", []float64{0.3, 0.5}, []bool{false, false}, 1.5, 1},
		{"ties", []float64{0.5, 0.5, 0.5, 0.9}, []bool{false, true, false, true}, 0.7, 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			thr, acc, err := BestThreshold(tc.scores, tc.same)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(thr-tc.thr) > 1e-12 || acc != tc.acc {
				t.Fatalf("threshold %v accuracy %v, want %v and %v", thr, acc, tc.thr, tc.acc)
			}
			got, _ := Accuracy(tc.scores, tc.same, thr)
			if got != acc {
				t.Fatalf("Accuracy at the chosen threshold = %v, want %v", got, acc)
			}
		})
	}
}

// TestKFold builds ten folds of 30 genuine (scores 0.6..0.9) and 30
// impostor (0.0..0.3) pairs; fold f also holds f-1 genuine pairs scored -1
// (no face), which no threshold can save. The threshold learnt on the other
// folds is the gap midpoint 0.45, so fold f scores 1 - (f-1)/(60+f-1).
func TestKFold(t *testing.T) {
	var scores []float64
	var same []bool
	var folds []int
	for f := 1; f <= 10; f++ {
		for i := 0; i < 30; i++ {
			x := float64(i) / 29 * 0.3
			scores = append(scores, 0.6+x, x)
			same = append(same, true, false)
			folds = append(folds, f, f)
		}
		for i := 0; i < f-1; i++ {
			scores, same, folds = append(scores, -1), append(same, true), append(folds, f)
		}
	}
	res, err := KFold(scores, same, folds)
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	want := make([]float64, 10)
	for f := 1; f <= 10; f++ {
		want[f-1] = 1 - float64(f-1)/float64(60+f-1)
		mean += want[f-1] / 10
	}
	var v float64
	for _, w := range want {
		v += (w - mean) * (w - mean) / 10
	}
	for i := range want {
		if res.Folds[i] != i+1 || math.Abs(res.Accuracy[i]-want[i]) > 1e-12 || math.Abs(res.Thresholds[i]-0.45) > 1e-12 {
			t.Errorf("fold %d: accuracy %v threshold %v, want %v and 0.45", res.Folds[i], res.Accuracy[i], res.Thresholds[i], want[i])
		}
	}
	if math.Abs(res.Mean-mean) > 1e-12 || math.Abs(res.Std-math.Sqrt(v)) > 1e-12 {
		t.Errorf("mean %v std %v, want %v and %v", res.Mean, res.Std, mean, math.Sqrt(v))
	}
}

// TestKFoldHeldOut shows the threshold comes from the other folds: fold 2's
// own best threshold would be perfect, but the one learnt on fold 1 is not.
func TestKFoldHeldOut(t *testing.T) {
	scores := []float64{0.2, 0.8, 0.6, 0.7}
	same := []bool{false, true, false, true}
	folds := []int{1, 1, 2, 2}
	res, err := KFold(scores, same, folds)
	if err != nil {
		t.Fatal(err)
	}
	// Fold 1 → threshold 0.5 → fold 2 accepts the 0.6 impostor: 1/2.
	// Fold 2 → threshold 0.65 → fold 1 is perfect.
	if res.Accuracy[0] != 1 || res.Accuracy[1] != 0.5 || math.Abs(res.Thresholds[0]-0.65) > 1e-12 || res.Thresholds[1] != 0.5 {
		t.Fatalf("%+v", res)
	}
	if res.Mean != 0.75 || res.Std != 0.25 {
		t.Fatalf("mean %v std %v, want 0.75 and 0.25", res.Mean, res.Std)
	}
	one, err := KFold(scores, same, []int{4, 4, 4, 4})
	if err != nil || one.Accuracy[0] != 1 || one.Std != 0 {
		t.Fatalf("single fold: %+v %v, want in-sample accuracy 1", one, err)
	}
}

func TestCalibration(t *testing.T) {
	// Percentage = 100*score. Genuine 0.96 0.91 0.75 0.5, impostor 0.85 0.72 0.3 0.1.
	scores := []float64{0.96, 0.91, 0.75, 0.5, 0.85, 0.72, 0.3, 0.1}
	same := []bool{true, true, true, true, false, false, false, false}
	rows, err := Calibration(scores, same, func(s float64) float64 { return 100 * s }, CalibrationThresholds())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ fa, fr int }{{2, 1}, {1, 2}, {0, 2}, {0, 3}}
	for i, r := range rows {
		if r.Threshold != CalibrationThresholds()[i] || r.FalseAccepts != want[i].fa || r.FalseRejects != want[i].fr ||
			r.FAR != float64(want[i].fa)/4 || r.FRR != float64(want[i].fr)/4 || r.Genuine != 4 || r.Impostor != 4 {
			t.Errorf("row %d = %+v, want %d false accepts, %d false rejects", i, r, want[i].fa, want[i].fr)
		}
	}
}

func TestMetricInputErrors(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		scores []float64
		same   []bool
	}{
		{"lengths", []float64{1, 2}, []bool{true}},
		{"empty", nil, nil},
		{"one class", []float64{1, 2}, []bool{true, true}},
		{"nan", []float64{nan, 2}, []bool{true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := AUC(tc.scores, tc.same); !errors.Is(err, ErrInput) {
				t.Errorf("AUC err = %v", err)
			}
			if _, err := ROC(tc.scores, tc.same); !errors.Is(err, ErrInput) {
				t.Errorf("ROC err = %v", err)
			}
			if _, _, err := TARAtFAR(tc.scores, tc.same, 0.01); !errors.Is(err, ErrInput) {
				t.Errorf("TARAtFAR err = %v", err)
			}
		})
	}
	if _, err := KFold([]float64{1}, []bool{true}, nil); !errors.Is(err, ErrInput) {
		t.Errorf("KFold err = %v", err)
	}
}
