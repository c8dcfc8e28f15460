package nn

import (
	"math/rand/v2"
	"testing"
)

func TestFuseActivations(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	conv := func(in int) Node {
		return Node{Op: Conv, Inputs: []int{in}, Kernel: [2]int{1, 1}, OutC: 2, Weight: randSlice(r, 4, 1)}
	}
	g := &Graph{Input: Shape{2, 2, 2}, Nodes: []Node{
		conv(0), // 1: read only by the PReLU → fused
		{Op: Activate, Inputs: []int{1}, Act: PReLU, Slope: []float32{0.5, 0.25}}, // 2
		conv(2), // 3: also read by the Add → not fused
		{Op: Activate, Inputs: []int{3}, Act: ReLU},                         // 4
		{Op: Add, Inputs: []int{3, 4}},                                      // 5: returned → not fused
		{Op: Activate, Inputs: []int{5}, Act: ReLU6},                        // 6
		{Op: Dense, Inputs: []int{6}, OutC: 2, Weight: randSlice(r, 16, 1)}, // 7
		{Op: Activate, Inputs: []int{7}, Act: Sigmoid},                      // 8: fused
	}, Outputs: []int{8, 5}}
	f := FuseActivations(g)
	if len(f.Nodes) != 6 || f.Nodes[0].Act != PReLU || f.Nodes[2].Op != Activate || f.Nodes[4].Op != Activate ||
		f.Nodes[5].Op != Dense || f.Nodes[5].Act != Sigmoid || f.Outputs[0] != 6 || f.Outputs[1] != 4 {
		t.Fatalf("fused graph: %d nodes, outputs %v: %+v", len(f.Nodes), f.Outputs, f.Nodes)
	}
	x := randSlice(r, 8, 1)
	want, err := g.Reference(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Reference(x)
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		closeTo(t, "fused", got[k], want[k], 1e-6)
	}
	if g.Nodes[0].Act != None {
		t.Error("FuseActivations changed its input graph")
	}
}
