package compare

import (
	"encoding/json"
	"fmt"
	"math"
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

func TestDefaultCalibration(t *testing.T) {
	c := DefaultCalibration()
	if c.A <= 0 {
		t.Fatalf("DefaultCalibration().A = %v, want > 0 (monotone)", c.A)
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
		if p := c.Percentage(cos); p/100 < 0.70 {
			t.Errorf("genuine golden pair cos %.4f → %.2f%%, below default threshold", cos, p)
		}
	}
	if p := c.Percentage(0.2067); p/100 >= 0.70 {
		t.Errorf("impostor golden pair cos 0.2067 → %.2f%%, passes threshold", p)
	}
	// Cosine inverts Percentage.
	for _, p := range []float64{1, 50, 70, 80, 90, 95, 99} {
		if got := c.Percentage(c.Cosine(p)); math.Abs(got-p) > 1e-9 {
			t.Errorf("Percentage(Cosine(%v)) = %v", p, got)
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
		if got := fmt.Sprintf("%.2f%%", r); got != tc.text {
			t.Errorf("RoundPercentage(%v) shows as = %q, want %q", tc.p, got, tc.text)
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
		cal := DefaultCalibration()
		c := cal.MatchCosine(th)
		if !Meets(cal.Percentage(math.Nextafter(c, 2)+1e-12), th) || Meets(cal.Percentage(c-1e-9), th) {
			t.Fatalf("threshold %v: MatchCosine %v is not the boundary", th, c)
		}
	}
}
