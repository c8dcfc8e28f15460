package calfit

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facematch/facematch/compare"
)

// threshold is the product's default match threshold (facematch.DefaultThreshold),
// the operating point the bundled calibration is anchored at.
const threshold = 0.70

// synthetic draws n genuine and n impostor cosines from two normal
// distributions (roughly the shape of MobileFaceNet scores on LFW).
func synthetic(seed uint64, n int) (cos []float64, same []bool) {
	r := rand.New(rand.NewPCG(seed, 0))
	for i := 0; i < n; i++ {
		cos = append(cos, math.Max(-1, math.Min(1, 0.62+0.12*r.NormFloat64())))
		same = append(same, true)
		cos = append(cos, math.Max(-1, math.Min(1, 0.05+0.10*r.NormFloat64())))
		same = append(same, false)
	}
	return cos, same
}

func TestFitRecoversLogisticModel(t *testing.T) {
	// Draw labels from a known logistic model; the MLE must recover it.
	const A, B = 9.0, -3.0
	r := rand.New(rand.NewPCG(1, 2))
	var cos []float64
	var same []bool
	for i := 0; i < 20000; i++ {
		x := r.Float64()*1.4 - 0.4
		p := 1 / (1 + math.Exp(-(A*x + B)))
		cos = append(cos, x)
		same = append(same, r.Float64() < p)
	}
	c, err := Fit(cos, same)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.A-A) > 0.6 || math.Abs(c.B-B) > 0.3 {
		t.Fatalf("Fit = %+v, want about A=%v B=%v", c, A, B)
	}
	// Deterministic.
	c2, err := Fit(cos, same)
	if err != nil || c2 != c {
		t.Fatalf("second Fit = %+v, %v; want %+v", c2, err, c)
	}
}

func TestFitSeparable(t *testing.T) {
	// Perfectly separable data: Platt targets keep the constants finite.
	cos := []float64{0.9, 0.8, 0.7, 0.1, 0.0, -0.1}
	same := []bool{true, true, true, false, false, false}
	c, err := Fit(cos, same)
	if err != nil {
		t.Fatal(err)
	}
	if !(c.A > 0) || math.IsInf(c.A, 0) {
		t.Fatalf("Fit = %+v", c)
	}
	if p := c.Percentage(0.8); p < 50 {
		t.Errorf("genuine 0.8 → %v%%", p)
	}
	if p := c.Percentage(0.0); p > 50 {
		t.Errorf("impostor 0.0 → %v%%", p)
	}
}

func TestFitAnchored(t *testing.T) {
	cos, same := synthetic(7, 3000)
	anchor, err := CosineAtFAR(cos, same, 0.001)
	if err != nil {
		t.Fatal(err)
	}
	c, err := FitAnchored(cos, same, anchor, compare.LowestAccepted(threshold))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Percentage(anchor); math.Abs(got-69.995) > 1e-9 {
		t.Fatalf("Percentage(anchor) = %v, want 69.995 (70.00 once rounded)", got)
	}
	far, frr, err := Rates(cos, same, c, threshold)
	if err != nil {
		t.Fatal(err)
	}
	if far > 0.001 {
		t.Errorf("FAR at 0.70 = %v, want <= 0.001", far)
	}
	if frr > 0.5 {
		t.Errorf("FRR at 0.70 = %v, implausible for these distributions", frr)
	}
	// Stricter thresholds never raise FAR nor lower FRR.
	prevFAR, prevFRR := far, frr
	for _, th := range []float64{0.80, 0.90, 0.95} {
		far, frr, _ := Rates(cos, same, c, th)
		if far > prevFAR || frr < prevFRR {
			t.Errorf("threshold %v: FAR %v FRR %v not monotone after %v %v", th, far, frr, prevFAR, prevFRR)
		}
		prevFAR, prevFRR = far, frr
	}
}

func TestCosineAtFAR(t *testing.T) {
	// 10 impostors 0.0..0.9 and one genuine.
	var cos []float64
	var same []bool
	for i := 0; i < 10; i++ {
		cos = append(cos, float64(i)/10)
		same = append(same, false)
	}
	cos = append(cos, 1)
	same = append(same, true)
	tests := []struct {
		far  float64
		want float64 // accepted impostors must be <= far*10
	}{
		{0, 0.9}, {0.1, 0.8}, {0.25, 0.7}, {0.5, 0.4},
	}
	for _, tt := range tests {
		got, err := CosineAtFAR(cos, same, tt.far)
		if err != nil {
			t.Fatal(err)
		}
		if got <= tt.want || got > tt.want+1e-6 {
			t.Errorf("CosineAtFAR(%v) = %v, want just above %v", tt.far, got, tt.want)
		}
		accepted := 0
		for i, c := range cos {
			if !same[i] && c >= got {
				accepted++
			}
		}
		if float64(accepted) > tt.far*10 {
			t.Errorf("CosineAtFAR(%v) accepts %d impostors", tt.far, accepted)
		}
	}
}

func TestFitDataErrors(t *testing.T) {
	tests := []struct {
		name string
		cos  []float64
		same []bool
	}{
		{"length mismatch", []float64{0.1, 0.2}, []bool{true}},
		{"no impostors", []float64{0.1, 0.2}, []bool{true, true}},
		{"no genuine", []float64{0.1, 0.2}, []bool{false, false}},
		{"NaN", []float64{math.NaN(), 0.2}, []bool{true, false}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Fit(tt.cos, tt.same); !errors.Is(err, ErrFitData) {
				t.Errorf("Fit: %v", err)
			}
			if _, err := FitAnchored(tt.cos, tt.same, 0.4, 70); !errors.Is(err, ErrFitData) {
				t.Errorf("FitAnchored: %v", err)
			}
			if _, err := CosineAtFAR(tt.cos, tt.same, 0.001); !errors.Is(err, ErrFitData) {
				t.Errorf("CosineAtFAR: %v", err)
			}
			if _, _, err := Rates(tt.cos, tt.same, compare.DefaultCalibration(), 0.7); !errors.Is(err, ErrFitData) {
				t.Errorf("Rates: %v", err)
			}
		})
	}
	cos, same := []float64{0.9, 0.1}, []bool{true, false}
	for _, p := range []float64{0, 100, -5, math.NaN()} {
		if _, err := FitAnchored(cos, same, 0.5, p); !errors.Is(err, ErrFitData) {
			t.Errorf("FitAnchored anchorPct %v: %v", p, err)
		}
	}
	if _, err := FitAnchored([]float64{0.9, 0.1}, []bool{false, true}, 0.5, 70); !errors.Is(err, ErrFitData) {
		t.Errorf("FitAnchored with inverted labels: %v", err)
	}
}

// TestAnchorSurvivesRounding: for many data sets the default threshold,
// after the round trip cosine → Percentage → threshold, never accepts more
// impostors than CosineAtFAR allows.
func TestAnchorSurvivesRounding(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		cos, same := synthetic(seed, 1000)
		for _, far := range []float64{0, 0.001, 0.01} {
			anchor, err := CosineAtFAR(cos, same, far)
			if err != nil {
				t.Fatal(err)
			}
			c, err := FitAnchored(cos, same, anchor, compare.LowestAccepted(threshold))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := Rates(cos, same, c, threshold)
			if err != nil {
				t.Fatal(err)
			}
			if got > far {
				t.Fatalf("seed %d: FAR %v at the threshold anchored at FAR %v", seed, got, far)
			}
		}
	}
}
