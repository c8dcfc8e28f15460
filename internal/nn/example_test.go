package nn_test

import (
	"fmt"

	"github.com/facematch/facematch/internal/nn"
)

// A 2x2 single-channel image through a 2x2 convolution, a PReLU and a
// fully connected layer.
func Example() {
	g := &nn.Graph{
		Input: nn.Shape{C: 1, H: 2, W: 2},
		Nodes: []nn.Node{
			{Op: nn.Conv, Inputs: []int{0}, Kernel: [2]int{1, 1}, OutC: 2, Weight: []float32{1, -1}, Act: nn.PReLU, Slope: []float32{0.5}},
			{Op: nn.Dense, Inputs: []int{1}, OutC: 1, Weight: []float32{1, 1, 1, 1, 1, 1, 1, 1}, Bias: []float32{0.25}},
		},
		Outputs: []int{1, 2},
	}
	net, err := nn.Compile(g, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := net.Run([]float32{1, 2, 3, 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0]) // channel 0: x; channel 1: PReLU(-x) = -x/2
	fmt.Println(out[1])
	// Output:
	// [1 2 3 4 -0.5 -1 -1.5 -2]
	// [5.25]
}
