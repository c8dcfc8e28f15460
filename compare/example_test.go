package compare_test

import (
	"fmt"

	"github.com/facematch/facematch/compare"
)

func Example() {
	// Two (tiny) embeddings; real ones come from the embed package.
	a := []float32{0.6, 0.8, 0}
	b := []float32{0.8, 0.6, 0}

	cos := compare.Cosine(a, b)
	p := compare.Default.Percentage(cos)
	match := p/100 >= compare.DefaultThreshold
	fmt.Printf("cosine %.2f\n", cos)
	fmt.Println("above 99 %:", p > 99, "match:", match)

	// A threshold outside [0.70, 0.95] is refused.
	fmt.Println(compare.CheckThreshold(0.5))
	// Output:
	// cosine 0.96
	// above 99 %: true match: true
	// compare: invalid threshold: 0.5 is outside [0.70, 0.95]
}

func ExampleFitAnchored() {
	// Labelled pair cosines, e.g. from the LFW benchmark.
	cos := []float64{0.82, 0.74, 0.69, 0.55, 0.48, 0.31, 0.22, 0.12, 0.05, -0.03}
	same := []bool{true, true, true, true, true, false, false, false, false, false}

	anchor, _ := compare.CosineAtFAR(cos, same, 0) // accept no impostor
	// Pin the lowest percentage shown as 70.00% (69.995) at the anchor.
	cal, err := compare.FitAnchored(cos, same, anchor, compare.LowestAccepted(compare.DefaultThreshold))
	if err != nil {
		fmt.Println(err)
		return
	}
	far, frr, _ := compare.Rates(cos, same, cal, compare.DefaultThreshold)
	fmt.Printf("70.00%% from cosine %.2f: FAR %.0f%%, FRR %.0f%%\n", cal.MatchCosine(compare.DefaultThreshold), 100*far, 100*frr)
	// Output:
	// 70.00% from cosine 0.31: FAR 0%, FRR 0%
}

func ExampleNormalizer() {
	// Two faces of one demographic share a direction (here the first axis):
	// the raw cosine of two different people runs high.
	a := []float32{0.5, 1, 0}
	b := []float32{0.5, 0, 1}
	fmt.Printf("raw cosine %.2f\n", compare.Cosine(a, b))

	// A normaliser fitted on a cohort of such faces removes it. The bundled
	// one, compare.DefaultNormalizer, works on MobileFaceNet's 192 values and
	// is what compare.Similarity applies.
	n := &compare.Normalizer{Mean: []float32{0.5, 0, 0}}
	fmt.Printf("normalised %.2f\n", n.Similarity(a, b))
	// Output:
	// raw cosine 0.20
	// normalised 0.00
}
