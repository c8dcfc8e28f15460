package calfit_test

import (
	"fmt"

	"github.com/facematch/facematch/bench/internal/calfit"
	"github.com/facematch/facematch/compare"
)

func ExampleFitAnchored() {
	// Labelled pair cosines, e.g. from the LFW benchmark.
	cos := []float64{0.82, 0.74, 0.69, 0.55, 0.48, 0.31, 0.22, 0.12, 0.05, -0.03}
	same := []bool{true, true, true, true, true, false, false, false, false, false}

	anchor, _ := calfit.CosineAtFAR(cos, same, 0) // accept no impostor
	// Pin the lowest percentage shown as 70.00% (69.995) at the anchor.
	cal, err := calfit.FitAnchored(cos, same, anchor, compare.LowestAccepted(0.70))
	if err != nil {
		fmt.Println(err)
		return
	}
	far, frr, _ := calfit.Rates(cos, same, cal, 0.70)
	fmt.Printf("70.00%% from cosine %.2f: FAR %.0f%%, FRR %.0f%%\n", cal.MatchCosine(0.70), 100*far, 100*frr)
	// Output:
	// 70.00% from cosine 0.31: FAR 0%, FRR 0%
}
