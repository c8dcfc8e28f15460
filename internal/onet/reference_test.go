package onet

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/facematch/facematch/internal/gemm"
	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/tflite"
	"github.com/facematch/facematch/weights"
)

// goldenInputs are the inputs of testdata/forward_golden.json: seeded
// random crops in the (v-127.5)/128 range.
func goldenInputs(n int) [][]float32 {
	r := rand.New(rand.NewPCG(11, 12))
	ins := make([][]float32, n)
	for k := range ins {
		ins[k] = make([]float32, Input*Input*3)
		for i := range ins[k] {
			ins[k][i] = r.Float32()*2 - 1
		}
	}
	return ins
}

// TestForwardMatchesGolden compares the network's outputs with those of the
// interpreter this package had before it moved onto package nn (recorded
// in testdata/forward_golden.json with the AVX2 kernel on amd64): the same
// bits with that kernel, within 1e-5 with any other.
func TestForwardMatchesGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/forward_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden []struct {
		Lm   [10]float32
		Reg  [4]float32
		Prob [2]float32
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	n := newNet(t)
	exact := runtime.GOARCH == "amd64" && gemm.KernelName() == "avx2"
	for k, in := range goldenInputs(len(golden)) {
		lm, reg, prob, err := n.forward(in)
		if err != nil {
			t.Fatal(err)
		}
		g := golden[k]
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"landmarks", lm[:], g.Lm[:]}, {"regression", reg[:], g.Reg[:]}, {"probabilities", prob[:], g.Prob[:]}} {
			for i := range c.got {
				d := math.Abs(float64(c.got[i] - c.want[i]))
				if (exact && math.Float32bits(c.got[i]) != math.Float32bits(c.want[i])) || d > 1e-5 {
					t.Errorf("input %d %s[%d] = %v, golden %v", k, c.name, i, c.got[i], c.want[i])
				}
			}
		}
	}
}

// TestForwardMatchesReference checks the compiled network against the
// float64 reference evaluator of package nn on the same graph (with the
// build's kernel: -tags purego tests the portable one), and that passes
// repeat bit for bit.
func TestForwardMatchesReference(t *testing.T) {
	g, err := tflite.Load(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	n := newNet(t)
	for k, in := range goldenInputs(3) {
		lm, reg, prob, err := n.forward(in)
		if err != nil {
			t.Fatal(err)
		}
		chw := make([]float32, len(in))
		for p := range Input * Input {
			for c := range 3 {
				chw[c*Input*Input+p] = in[p*3+c]
			}
		}
		want, err := g.Reference(chw)
		if err != nil {
			t.Fatal(err)
		}
		got := make([][]float32, 3)
		got[n.outLm], got[n.outReg], got[n.outProb] = lm[:], reg[:], prob[:]
		for o := range want {
			for i := range want[o] {
				if d := math.Abs(float64(got[o][i] - want[o][i])); d > 1e-4 {
					t.Fatalf("kernel %s input %d output %d [%d] = %v, reference %v", gemm.KernelName(), k, o, i, got[o][i], want[o][i])
				}
			}
		}
		lm2, reg2, prob2, _ := n.forward(in)
		if lm2 != lm || reg2 != reg || prob2 != prob {
			t.Fatalf("kernel %s input %d: two passes differ", gemm.KernelName(), k)
		}
	}
}

// TestLoadedGraph checks what the loader makes of the export: its five
// PReLUs (six operators each) folded into the convolutions and the 256-unit
// layer, its softmax (five operators) one node, 12 nodes in all.
func TestLoadedGraph(t *testing.T) {
	g, err := tflite.Load(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	count := map[nn.Op]int{}
	prelu := 0
	for _, nd := range g.Nodes {
		count[nd.Op]++
		if nd.Act == nn.PReLU {
			prelu++
		}
	}
	if len(g.Nodes) != 12 || count[nn.Conv] != 4 || count[nn.MaxPool] != 3 || count[nn.Dense] != 4 || count[nn.Softmax] != 1 || prelu != 5 {
		t.Errorf("%d nodes %v with %d PReLUs, want 4 Conv, 3 MaxPool, 4 Dense, 1 Softmax, 5 PReLUs", len(g.Nodes), count, prelu)
	}
}
