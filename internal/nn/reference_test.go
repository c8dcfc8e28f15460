package nn

import (
	"errors"
	"math"
	"testing"
)

func approx(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("%s: value %d = %v, want %v (all: %v)", name, i, got[i], want[i], got)
		}
	}
}

func TestReferenceOps(t *testing.T) {
	// 1x3x3 input 1..9.
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	s := Shape{C: 1, H: 3, W: 3}
	tests := []struct {
		name string
		g    Graph
		in   []float32
		want []float32
	}{
		{"conv 2x2 valid", Graph{Input: s, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{2, 2}, OutC: 1, Weight: []float32{1, 0, 0, 1}, Bias: []float32{0.5}}}, Outputs: []int{1}},
			in, []float32{6.5, 8.5, 12.5, 14.5}},
		{"conv 3x3 pad 1 stride 2", Graph{Input: s, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, OutC: 1, Weight: []float32{0, 0, 0, 0, 1, 0, 0, 0, 0}}}, Outputs: []int{1}},
			in, []float32{1, 3, 7, 9}},
		{"depthwise", Graph{Input: Shape{C: 2, H: 1, W: 2}, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{1, 1}, Groups: 2, OutC: 2, Weight: []float32{2, -1}}}, Outputs: []int{1}},
			[]float32{1, 2, 3, 4}, []float32{2, 4, -3, -4}},
		{"grouped conv mixes only its group", Graph{Input: Shape{C: 4, H: 1, W: 1}, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{1, 1}, Groups: 2, OutC: 2, Weight: []float32{1, 1, 1, -1}}}, Outputs: []int{1}},
			[]float32{1, 2, 3, 4}, []float32{3, -1}},
		{"dense + prelu", Graph{Input: Shape{C: 2, H: 1, W: 1}, Nodes: []Node{{Op: Dense, Inputs: []int{0}, OutC: 2, Weight: []float32{1, 1, -1, 0}, Act: PReLU, Slope: []float32{0.5, 0.25}}}, Outputs: []int{1}},
			[]float32{2, 3}, []float32{5, -0.5}},
		{"maxpool padded", Graph{Input: s, Nodes: []Node{{Op: MaxPool, Inputs: []int{0}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pad: [4]int{0, 0, 1, 1}}}, Outputs: []int{1}},
			[]float32{-1, -2, -3, -4, -5, -6, -7, -8, -9}, []float32{-1, -3, -7, -9}},
		{"avgpool counts only inside", Graph{Input: s, Nodes: []Node{{Op: AvgPool, Inputs: []int{0}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pad: [4]int{0, 0, 1, 1}}}, Outputs: []int{1}},
			in, []float32{3, 4.5, 7.5, 9}},
		{"squeeze-excitation", Graph{Input: Shape{C: 2, H: 1, W: 2}, Nodes: []Node{
			{Op: GlobalAvgPool, Inputs: []int{0}},
			{Op: Conv, Inputs: []int{1}, Kernel: [2]int{1, 1}, OutC: 2, Weight: []float32{0, 0, 0, 0}, Act: Sigmoid},
			{Op: Mul, Inputs: []int{0, 2}, Act: ReLU6},
		}, Outputs: []int{3}}, []float32{2, 20, -4, 4}, []float32{1, 6, 0, 2}},
		{"add, softmax, l2", Graph{Input: Shape{C: 2, H: 1, W: 1}, Nodes: []Node{
			{Op: Add, Inputs: []int{0, 0}},
			{Op: Softmax, Inputs: []int{1}},
			{Op: L2Normalize, Inputs: []int{0}},
		}, Outputs: []int{2, 3}}, []float32{0, 0.5}, []float32{float32(1 / (1 + math.E)), float32(math.E / (1 + math.E)), 0, 1}},
	}
	for _, tc := range tests {
		out, err := tc.g.Reference(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var flat []float32
		for _, o := range out {
			flat = append(flat, o...)
		}
		approx(t, tc.name, flat, tc.want)
	}
}

func TestValidateRejects(t *testing.T) {
	s := Shape{C: 2, H: 4, W: 4}
	bad := []Graph{
		{Input: Shape{}, Outputs: []int{0}},
		{Input: s},
		{Input: s, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{3, 3}, OutC: 1, Weight: make([]float32, 5)}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{3, 3}, Groups: 3, OutC: 3, Weight: make([]float32, 27)}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{5, 5}, OutC: 1, Weight: make([]float32, 50)}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Add, Inputs: []int{0, 1}}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Activate, Inputs: []int{0}, Act: PReLU, Slope: []float32{1, 2, 3}}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Dense, Inputs: []int{0}, OutC: 2, Weight: make([]float32, 3)}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Op(99), Inputs: []int{0}}}, Outputs: []int{1}},
		{Input: s, Nodes: []Node{{Op: Activate, Inputs: []int{0}}}, Outputs: []int{2}},
	}
	for i, g := range bad {
		if _, err := g.Validate(); !errors.Is(err, ErrGraph) {
			t.Errorf("graph %d: Validate = %v, want ErrGraph", i, err)
		}
	}
}

func TestFoldBatchNorm(t *testing.T) {
	n := Node{Op: Conv, Inputs: []int{0}, Kernel: [2]int{1, 1}, OutC: 2, Weight: []float32{2, 3}}
	if err := FoldBatchNorm(&n, []float32{1, 2}, []float32{0.5, -1}, []float32{1, 0}, []float32{4, 1}, 0); err != nil {
		t.Fatal(err)
	}
	g := Graph{Input: Shape{C: 1, H: 1, W: 1}, Nodes: []Node{n}, Outputs: []int{1}}
	out, err := g.Reference([]float32{3})
	if err != nil {
		t.Fatal(err)
	}
	// Channel 0: (2*3-1)/2*1+0.5 = 3; channel 1: (3*3-0)/1*2-1 = 17.
	approx(t, "folded", out[0], []float32{3, 17})
	if err := FoldBatchNorm(&Node{Op: MaxPool}, nil, nil, nil, nil, 0); !errors.Is(err, ErrGraph) {
		t.Errorf("fold after MaxPool: %v", err)
	}
}
