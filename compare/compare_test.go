package compare

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
)

func TestCosine(t *testing.T) {
	tests := []struct {
		name string
		a, b []float32
		want float64
	}{
		{"identical", []float32{1, 2, 3}, []float32{1, 2, 3}, 1},
		{"scaled", []float32{1, 2, 3}, []float32{2, 4, 6}, 1},
		{"opposite", []float32{1, -2, 3}, []float32{-1, 2, -3}, -1},
		{"orthogonal", []float32{1, 0}, []float32{0, 5}, 0},
		{"45 degrees", []float32{1, 0}, []float32{1, 1}, 1 / math.Sqrt2},
		{"zero vector", []float32{0, 0, 0}, []float32{1, 2, 3}, 0},
		{"length mismatch", []float32{1, 2}, []float32{1, 2, 3}, math.NaN()},
		{"empty", nil, nil, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Cosine(tt.a, tt.b)
			if math.IsNaN(tt.want) {
				if !math.IsNaN(got) {
					t.Fatalf("Cosine = %v, want NaN", got)
				}
				return
			}
			if math.Abs(got-tt.want) > 1e-6 {
				t.Fatalf("Cosine = %v, want %v", got, tt.want)
			}
			if got < -1 || got > 1 {
				t.Fatalf("Cosine = %v outside [-1, 1]", got)
			}
		})
	}
}

// TestCosineGolden recomputes the golden cosine matrix from the reference
// MobileFaceNet embeddings in ../shared.
func TestCosineGolden(t *testing.T) {
	dir := sharedtest.Path(t, "golden", "mobilefacenet")
	var index struct {
		Order  []string    `json:"cosine_matrix_order"`
		Matrix [][]float64 `json:"cosine_matrix"`
		Files  []struct {
			Image, JSON string
		} `json:"files"`
	}
	readJSON(t, dir+"/index.json", &index)
	emb := map[string][]float32{}
	for _, f := range index.Files {
		var g struct {
			E []float32 `json:"embedding_l2normalized"`
		}
		readJSON(t, dir+"/"+f.JSON, &g)
		if len(g.E) != 192 {
			t.Fatalf("%s: %d values", f.JSON, len(g.E))
		}
		emb[f.Image] = g.E
	}
	for i, a := range index.Order {
		for j, b := range index.Order {
			got := Cosine(emb[a], emb[b])
			if want := index.Matrix[i][j]; math.Abs(got-want) > 6e-5 { // matrix is rounded to 4 decimals
				t.Errorf("Cosine(%s, %s) = %.5f, golden %.4f", a, b, got, want)
			}
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestCheckThreshold(t *testing.T) {
	tests := []struct {
		t  float64
		ok bool
	}{
		{0.70, true}, {0.95, true}, {0.8, true}, {0.9, true},
		{0.6999999, false}, {0.9500001, false}, {0.5, false}, {0.99, false},
		{0, false}, {-1, false}, {70, false}, {math.NaN(), false}, {math.Inf(1), false},
	}
	for _, tt := range tests {
		err := CheckThreshold(tt.t)
		if (err == nil) != tt.ok {
			t.Errorf("CheckThreshold(%v) = %v, want ok=%v", tt.t, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidThreshold) {
			t.Errorf("CheckThreshold(%v) error %v does not wrap ErrInvalidThreshold", tt.t, err)
		}
	}
}

func TestFormatPercentage(t *testing.T) {
	tests := []struct {
		p    float64
		want string
	}{
		{95, "95.00%"}, {0, "0.00%"}, {100, "100.00%"}, {70.004, "70.00%"}, {70.006, "70.01%"}, {3.14159, "3.14%"},
	}
	for _, tt := range tests {
		if got := FormatPercentage(tt.p); got != tt.want {
			t.Errorf("FormatPercentage(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestDefaultCalibration(t *testing.T) {
	c := Default
	if c.A <= 0 {
		t.Fatalf("Default.A = %v, want > 0 (monotone)", c.A)
	}
	// Monotone and within [0, 100] over the whole cosine range.
	prev := -1.0
	for i := 0; i <= 2000; i++ {
		x := -1 + float64(i)/1000
		p := c.Percentage(x)
		if p < 0 || p > 100 || p <= prev {
			t.Fatalf("Percentage(%v) = %v after %v: not increasing in [0, 100]", x, p, prev)
		}
		prev = p
	}
	// Golden LFW crops: both genuine pairs pass the default threshold, the
	// impostor pairs (at most 0.2067) fail even the lowest one.
	for _, cos := range []float64{0.6862, 0.9197} {
		if p := c.Percentage(cos); p/100 < DefaultThreshold {
			t.Errorf("genuine golden pair cos %.4f → %.2f%%, below default threshold", cos, p)
		}
	}
	if p := c.Percentage(0.2067); p/100 >= MinThreshold {
		t.Errorf("impostor golden pair cos 0.2067 → %.2f%%, passes threshold", p)
	}
	// Cosine inverts Percentage.
	for _, p := range []float64{1, 50, 70, 80, 90, 95, 99} {
		if got := c.Percentage(c.Cosine(p)); math.Abs(got-p) > 1e-9 {
			t.Errorf("Percentage(Cosine(%v)) = %v", p, got)
		}
	}
}

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
	c, err := FitAnchored(cos, same, anchor, LowestAccepted(DefaultThreshold))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Percentage(anchor); math.Abs(got-69.995) > 1e-9 {
		t.Fatalf("Percentage(anchor) = %v, want 69.995 (70.00 once rounded)", got)
	}
	far, frr, err := Rates(cos, same, c, DefaultThreshold)
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
			if _, _, err := Rates(tt.cos, tt.same, Default, 0.7); !errors.Is(err, ErrFitData) {
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
			c, err := FitAnchored(cos, same, anchor, LowestAccepted(DefaultThreshold))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := Rates(cos, same, c, DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			if got > far {
				t.Fatalf("seed %d: FAR %v at the threshold anchored at FAR %v", seed, got, far)
			}
		}
	}
}

// TestRoundingEdge: the shown percentage is the decided one. 69.995 shows
// as 70.00% and matches at 0.70; 69.994999 shows as 69.99% and does not.
func TestRoundingEdge(t *testing.T) {
	for _, tc := range []struct {
		p         float64
		threshold float64
		text      string
		match     bool
	}{
		{69.997, 0.70, "70.00%", true},
		{69.995, 0.70, "70.00%", true},
		{69.994999, 0.70, "69.99%", false},
		{70, 0.70, "70.00%", true},
		{79.996, 0.80, "80.00%", true},
		{94.994, 0.95, "94.99%", false},
		{95, 0.95, "95.00%", true},
		{100, 0.95, "100.00%", true},
		{0, 0.70, "0.00%", false},
		{70.004, 0.70001, "70.00%", false}, // a threshold between hundredths rounds up
		{70.005, 0.70001, "70.01%", true},
		{math.NaN(), 0.70, "NaN%", false},
	} {
		r := RoundPercentage(tc.p)
		if got := FormatPercentage(r); got != tc.text {
			t.Errorf("FormatPercentage(RoundPercentage(%v)) = %q, want %q", tc.p, got, tc.text)
		}
		if got := Meets(r, tc.threshold); got != tc.match {
			t.Errorf("Meets(%v, %v) = %v, want %v", r, tc.threshold, got, tc.match)
		}
		// The verdict agrees with the text whatever the caller rounds first.
		if Meets(tc.p, tc.threshold) != Meets(r, tc.threshold) {
			t.Errorf("Meets(%v) and Meets(rounded %v) disagree", tc.p, r)
		}
	}
	// Every threshold in hundredths: a percentage that shows as the
	// threshold matches, one hundredth less does not; MatchCosine is the
	// boundary on the cosine axis.
	for h := 7000; h <= 9500; h++ {
		th := float64(h) / 10000
		p := float64(h) / 100
		if !Meets(RoundPercentage(p), th) || Meets(RoundPercentage(p-0.01), th) {
			t.Fatalf("threshold %v: %v or %v decided wrongly", th, p, p-0.01)
		}
		c := Default.MatchCosine(th)
		if !Meets(Default.Percentage(math.Nextafter(c, 2)+1e-12), th) || Meets(Default.Percentage(c-1e-9), th) {
			t.Fatalf("threshold %v: MatchCosine %v is not the boundary", th, c)
		}
	}
}
