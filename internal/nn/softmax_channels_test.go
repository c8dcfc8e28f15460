package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxChannelsReference: each position is normalised over its own
// channels, independently of the others.
func TestSoftmaxChannelsReference(t *testing.T) {
	g := Graph{Input: Shape{C: 2, H: 1, W: 3}, Nodes: []Node{{Op: SoftmaxChannels, Inputs: []int{0}}}, Outputs: []int{1}}
	// Channel 0 then channel 1, positions x = 0, 1, 2.
	out, err := g.Reference([]float32{0, 1, 100, 0, 0, 101})
	if err != nil {
		t.Fatal(err)
	}
	e := 1 / (1 + math.E)
	approx(t, "softmax over channels", out[0], []float32{0.5, float32(1 - e), float32(e), 0.5, float32(e), float32(1 - e)})
}

// TestSoftmaxChannelsIsSoftmaxOnAVector: on a C x 1 x 1 value the two ops
// agree, in the reference and in the runtime (to the bit).
func TestSoftmaxChannelsIsSoftmaxOnAVector(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randSlice(r, 7, 4)
	var res [2][][]float32
	var run [2][][]float32
	for i, op := range []Op{Softmax, SoftmaxChannels} {
		g := &Graph{Input: Shape{C: 7, H: 1, W: 1}, Nodes: []Node{{Op: op, Inputs: []int{0}}}, Outputs: []int{1}}
		var err error
		if res[i], err = g.Reference(x); err != nil {
			t.Fatal(err)
		}
		net, err := Compile(g, &CompileOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		if run[i], err = net.Run(x); err != nil {
			t.Fatal(err)
		}
	}
	approx(t, "reference", res[1][0], res[0][0])
	for k := range run[0][0] {
		if math.Float32bits(run[0][0][k]) != math.Float32bits(run[1][0][k]) {
			t.Fatalf("value %d: SoftmaxChannels %v, Softmax %v", k, run[1][0][k], run[0][0][k])
		}
	}
}

// TestSoftmaxChannelsRunMatchesReference runs a small fully convolutional
// classifier (conv, PReLU, pool, 1x1 conv to 2 and 4 channels, per-pixel
// softmax on the 2) through the runtime and the reference.
func TestSoftmaxChannelsRunMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	in := Shape{C: 3, H: 17, W: 12}
	g := &Graph{Input: in, Nodes: []Node{
		{Op: Conv, Inputs: []int{0}, Kernel: [2]int{3, 3}, OutC: 6, Weight: randSlice(r, 6*3*9, 0.5), Bias: randSlice(r, 6, 0.2), Act: PReLU, Slope: randSlice(r, 6, 0.5)},
		{Op: MaxPool, Inputs: []int{1}, Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pad: [4]int{0, 0, 1, 0}},
		{Op: Conv, Inputs: []int{2}, Kernel: [2]int{1, 1}, OutC: 2, Weight: randSlice(r, 2*6, 2), Bias: randSlice(r, 2, 0.2)},
		{Op: SoftmaxChannels, Inputs: []int{3}},
		{Op: Conv, Inputs: []int{2}, Kernel: [2]int{1, 1}, OutC: 4, Weight: randSlice(r, 4*6, 1)},
		{Op: SoftmaxChannels, Inputs: []int{5}, Act: ReLU6}, // 4 channels, and an activation after it
	}, Outputs: []int{4, 5, 6}}
	net, err := Compile(g, &CompileOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(r, in.Len(), 1)
	want, err := g.Reference(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		closeTo(t, "output", got[k], want[k], 1e-5)
	}
	// Probabilities: every position's channels sum to one.
	s := net.Outputs()[0]
	plane := s.H * s.W
	for p := range plane {
		if sum := got[0][p] + got[0][plane+p]; math.Abs(float64(sum-1)) > 1e-6 {
			t.Fatalf("position %d: probabilities sum to %v", p, sum)
		}
	}
	again, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	for k := range got {
		for i := range got[k] {
			if math.Float32bits(got[k][i]) != math.Float32bits(again[k][i]) {
				t.Fatalf("output %d value %d differs between runs", k, i)
			}
		}
	}
}
