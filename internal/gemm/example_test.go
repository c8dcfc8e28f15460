package gemm_test

import (
	"fmt"

	"github.com/facematch/facematch/internal/gemm"
)

// A fully connected layer of two units over three inputs, with bias and
// PReLU: the weights are packed once, then each call multiplies.
func Example() {
	weights := []float32{ // [units][depth], TFLite's layout
		1, 2, 3,
		-1, 0, 1,
	}
	bp := gemm.PackB(weights, 2, 3)
	bias := make([]float32, gemm.PadLen(2))
	bias[0], bias[1] = 0.5, -4
	slope := make([]float32, gemm.PadLen(2))
	slope[0], slope[1] = 0.25, 0.25

	x := []float32{1, 1, 1} // m = 1 input row
	y := make([]float32, 2)
	var s gemm.Scratch
	gemm.Mul(1, 2, 3, x, 3, bp, y, 2, bias, slope, &s)
	fmt.Println(y) // 1+2+3+0.5 = 6.5; -1+0+1-4 = -4 → PReLU 0.25·-4 = -1
	// Output: [6.5 -1]
}
