package main

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	// Reference values (Wilson 1927; e.g. statsmodels proportion_confint method="wilson").
	for _, tc := range []struct {
		k, n   int
		lo, hi float64
	}{{0, 10, 0, 0.2775}, {5, 10, 0.2366, 0.7634}, {1, 100, 0.0018, 0.0545}} {
		lo, hi := wilson(tc.k, tc.n)
		if math.Abs(lo-tc.lo) > 1e-4 || math.Abs(hi-tc.hi) > 1e-4 {
			t.Errorf("wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestRatesAUCAndRule(t *testing.T) {
	var s []sample
	for i := range 100 {
		s = append(s, sample{score: 0.5 + float64(i)/200}) // live: 0.5 .. 0.995
	}
	for i := range 50 {
		s = append(s, sample{attack: "print", score: float64(i) / 100}) // 0 .. 0.49
	}
	s = append(s, sample{attack: "screen", score: 0.9})
	apcer, bpcer := errorRates(s, 0.6)
	if apcer.Errs != 1 || apcer.N != 51 || bpcer.Errs != 20 || bpcer.N != 100 {
		t.Errorf("APCER %+v BPCER %+v", apcer, bpcer)
	}
	// The screen attack (0.9) is below 19 live images and tied with one.
	if got, want := auc(s), (50*100+19+0.5)/5100; math.Abs(got-want) > 1e-12 {
		t.Errorf("AUC %v, want %v", got, want)
	}
	th := thresholdForBPCER(s, 0.02)
	if _, b := errorRates(s, th); b.Errs > 2 || th != 0.51 {
		t.Errorf("threshold %v rejects %d live", th, b.Errs)
	}
}
