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
	p := compare.RoundPercentage(compare.DefaultCalibration().Percentage(cos))
	fmt.Printf("cosine %.2f\n", cos)
	fmt.Println("above 99 %:", p > 99, "meets 0.70:", compare.Meets(p, 0.70))
	// Output:
	// cosine 0.96
	// above 99 %: true meets 0.70: true
}

func ExampleNormalizer() {
	// Two faces of one demographic share a direction (here the first axis):
	// the raw cosine of two different people runs high.
	a := []float32{0.5, 1, 0}
	b := []float32{0.5, 0, 1}
	fmt.Printf("raw cosine %.2f\n", compare.Cosine(a, b))

	// A normaliser fitted on a cohort of such faces removes it. The bundled
	// one, compare.DefaultNormalizer(), works on MobileFaceNet's 192 values and
	// is what compare.Similarity applies.
	n := &compare.Normalizer{Mean: []float32{0.5, 0, 0}}
	fmt.Printf("normalised %.2f\n", n.Similarity(a, b))
	// Output:
	// raw cosine 0.20
	// normalised 0.00
}
