package eval_test

import (
	"fmt"
	"strings"

	"github.com/facematch/facematch/bench/internal/eval"
)

func Example() {
	pairs, err := eval.ParseTSV(strings.NewReader(
		"a/1.jpg\ta/2.jpg\t1\t1\n" +
			"a/1.jpg\tb/1.jpg\t0\t1\n" +
			"c/1.jpg\tc/2.jpg\t1\t2\n" +
			"c/1.jpg\td/1.jpg\t0\t2\n"))
	if err != nil {
		panic(err)
	}
	// Cosine similarities computed for the pairs, in order.
	scores := []float64{0.83, 0.12, 0.64, 0.31}
	same := make([]bool, len(pairs))
	folds := make([]int, len(pairs))
	for i, p := range pairs {
		same[i], folds[i] = p.Same, p.Fold
	}
	res, _ := eval.KFold(scores, same, folds)
	auc, _ := eval.AUC(scores, same)
	tar, thr, _ := eval.TARAtFAR(scores, same, 0)
	fmt.Printf("accuracy %.2f ± %.2f, thresholds %.3f\n", res.Mean, res.Std, res.Thresholds)
	fmt.Printf("AUC %.2f, TAR %.2f at FAR 0 (threshold %.2f)\n", auc, tar, thr)
	// Output:
	// accuracy 1.00 ± 0.00, thresholds [0.475 0.475]
	// AUC 1.00, TAR 1.00 at FAR 0 (threshold 0.64)
}
