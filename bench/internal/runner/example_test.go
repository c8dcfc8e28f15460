package runner_test

import (
	"context"
	"fmt"
	"os"

	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/bench/internal/runner"
	"github.com/facematch/facematch/compare"
)

func Example() {
	pairs := []eval.Pair{
		{A: "ann/1.jpg", B: "ann/2.jpg", Same: true, Fold: 1},
		{A: "ann/1.jpg", B: "bob/1.jpg", Same: false, Fold: 1},
		{A: "bob/1.jpg", B: "bob/2.jpg", Same: true, Fold: 2},
		{A: "cat.jpg", B: "ann/2.jpg", Same: false, Fold: 2},
	}
	// A stand-in for decode → detect → align → embed.
	embeddings := map[string][]float32{
		"ann/1.jpg": {1, 0}, "ann/2.jpg": {0.8, 0.6},
		"bob/1.jpg": {0, 1}, "bob/2.jpg": {0.6, 0.8},
	}
	embed := func(_ context.Context, path string) ([]float32, error) {
		if e, ok := embeddings[path]; ok {
			return e, nil
		}
		return nil, runner.ErrNoFace
	}
	scores, err := runner.Run(context.Background(), pairs, embed, &runner.Options{Workers: 2, Similarity: compare.Cosine})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.2f %v\n", scores.Cosine, scores.NoFaceImages)
	// Fold 1's threshold is learnt on fold 2 alone (between -1 and 0.8), so
	// fold 1's impostor at cosine 0 is accepted: 2-fold accuracy (0.5+1)/2.
	report, err := runner.Evaluate(scores, compare.Calibration{A: 10, B: -5})
	if err != nil {
		panic(err)
	}
	fmt.Printf("accuracy %.2f, AUC %.2f, no face %d\n", report.Accuracy, report.AUC, report.NoFace)
	scores.WriteTSV(os.Stdout)
	// Output:
	// [0.80 0.00 0.80 -1.00] [cat.jpg]
	// accuracy 0.75, AUC 1.00, no face 1
	// # path1	path2	same	fold	cosine	no_face
	// ann/1.jpg	ann/2.jpg	1	1	0.800000011920929	0
	// ann/1.jpg	bob/1.jpg	0	1	0	0
	// bob/1.jpg	bob/2.jpg	1	2	0.800000011920929	0
	// cat.jpg	ann/2.jpg	0	2	-1	1
}
