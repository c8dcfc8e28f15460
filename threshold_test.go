package facematch

import (
	"errors"
	"math"
	"testing"

	"github.com/facematch/facematch/compare"
)

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

// TestFormatRoundedPercentage: the text shows the rounded figure Meets
// decides on.
func TestFormatRoundedPercentage(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		text string
		meet bool
	}{
		{69.995, "70.00%", true}, {69.994999, "69.99%", false}, {math.NaN(), "NaN%", false},
	} {
		r := compare.RoundPercentage(tc.p)
		if got := FormatPercentage(r); got != tc.text || compare.Meets(r, DefaultThreshold) != tc.meet {
			t.Errorf("%v: %q meets=%v, want %q %v", tc.p, got, compare.Meets(r, DefaultThreshold), tc.text, tc.meet)
		}
	}
}
