package tflite

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/weights"
)

// TestLoadPNet: P-Net's decomposed softmax over the channels of a
// [1,H,W,2] tensor becomes one SoftmaxChannels node, whose output is the
// per-pixel softmax of the logits the node reads; the graph runs on an
// input of another size than the file declares.
func TestLoadPNet(t *testing.T) {
	g, err := Load(weights.PNet())
	if err != nil {
		t.Fatal(err)
	}
	if g.Input != (nn.Shape{C: 3, H: 1280, W: 960}) {
		t.Fatalf("input %v", g.Input)
	}
	shapes, err := g.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Outputs) != 2 || shapes[g.Outputs[0]] != (nn.Shape{C: 2, H: 635, W: 475}) || shapes[g.Outputs[1]] != (nn.Shape{C: 4, H: 635, W: 475}) {
		t.Fatalf("outputs %v", g.Outputs)
	}
	sm := g.Outputs[0] - 1
	if g.Nodes[sm].Op != nn.SoftmaxChannels {
		t.Fatalf("probability node is %v, want SoftmaxChannels", g.Nodes[sm].Op)
	}
	for _, n := range g.Nodes {
		if n.Op == nn.Softmax {
			t.Fatalf("a whole-value Softmax node in P-Net")
		}
	}
	// Run on a 3x30x24 input, also returning the logits.
	g.Input = nn.Shape{C: 3, H: 30, W: 24}
	logits := g.Nodes[sm].Inputs[0]
	g.Outputs = append(g.Outputs, logits)
	shapes, err = g.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if s := shapes[g.Outputs[0]]; s != (nn.Shape{C: 2, H: 10, W: 7}) {
		t.Fatalf("probabilities on a 30x24 input: %v", s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]float32, g.Input.Len())
	for i := range in {
		in[i] = r.Float32()*2 - 1
	}
	out, err := g.Reference(in)
	if err != nil {
		t.Fatal(err)
	}
	prob, lg := out[0], out[2]
	plane := 10 * 7
	for p := range plane {
		want := 1 / (1 + math.Exp(float64(lg[p])-float64(lg[plane+p])))
		if d := math.Abs(float64(prob[plane+p]) - want); d > 1e-6 {
			t.Fatalf("position %d: face probability %v, softmax of the logits %v", p, prob[plane+p], want)
		}
	}
	net, err := nn.Compile(g, &nn.CompileOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	for k := range out {
		for i := range out[k] {
			if d := math.Abs(float64(got[k][i] - out[k][i])); d > 1e-4*(1+math.Abs(float64(out[k][i]))) {
				t.Fatalf("output %d value %d: runtime %v, reference %v", k, i, got[k][i], out[k][i])
			}
		}
	}
}

// TestLoadRNet: R-Net's softmax is over a [1,2] tensor and stays Softmax.
func TestLoadRNet(t *testing.T) {
	g, err := Load(weights.RNet())
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := g.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if g.Input != (nn.Shape{C: 3, H: 24, W: 24}) || len(g.Outputs) != 2 ||
		shapes[g.Outputs[0]] != (nn.Shape{C: 2, H: 1, W: 1}) || shapes[g.Outputs[1]] != (nn.Shape{C: 4, H: 1, W: 1}) {
		t.Fatalf("input %v, outputs %v", g.Input, g.Outputs)
	}
	if op := g.Nodes[g.Outputs[0]-1].Op; op != nn.Softmax {
		t.Fatalf("probability node is %v, want Softmax", op)
	}
}
