package tflite

import (
	"errors"
	"testing"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/weights"
)

func TestPadsMatchTensorFlow(t *testing.T) {
	for _, c := range []struct {
		in, k, s           int
		p                  Padding
		out, before, after int
	}{
		{112, 3, 2, Same, 56, 0, 1}, // stride 2 on an even input: the extra pixel goes after
		{56, 3, 1, Same, 56, 1, 1},
		{7, 3, 2, Same, 4, 1, 1},
		{46, 3, 2, Same, 23, 0, 1},
		{8, 2, 2, Same, 4, 0, 0},
		{5, 1, 1, Same, 5, 0, 0},
		{21, 3, 2, Valid, 10, 0, 0},
	} {
		out, b, a, err := pads(c.in, c.k, c.s, c.p)
		if err != nil || out != c.out || b != c.before || a != c.after {
			t.Errorf("pads(%d, k%d, s%d, %d) = %d, %d, %d, %v; want %d, %d, %d", c.in, c.k, c.s, c.p, out, b, a, err, c.out, c.before, c.after)
		}
	}
	if _, _, _, err := pads(2, 3, 1, Valid); err == nil {
		t.Error("VALID kernel larger than the input: no error")
	}
}

// TestLoadMobileFaceNet checks what the loader makes of the bundled
// MobileFaceNet: every PReLU pattern (five operators) folded into the layer
// before it, no Activate node left.
func TestLoadMobileFaceNet(t *testing.T) {
	g, err := Load(weights.MobileFaceNet())
	if err != nil {
		t.Fatal(err)
	}
	count := map[nn.Op]int{}
	prelu := 0
	for _, n := range g.Nodes {
		count[n.Op]++
		if n.Act == nn.PReLU {
			prelu++
		}
	}
	// 35 CONV_2D, 17 DEPTHWISE_CONV_2D, 45 ADD of which 33 belong to PReLUs.
	if count[nn.Conv] != 52 || count[nn.Add] != 12 || count[nn.Activate] != 0 || prelu != 33 || len(g.Nodes) != 64 {
		t.Errorf("%d nodes %v with %d PReLUs; want 52 Conv, 12 Add, 33 PReLUs", len(g.Nodes), count, prelu)
	}
	if g.Input != (nn.Shape{C: 3, H: 112, W: 112}) || len(g.Outputs) != 1 {
		t.Errorf("input %v, outputs %v", g.Input, g.Outputs)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load([]byte("not a model")); !errors.Is(err, ErrFormat) {
		t.Errorf("garbage: %v, want ErrFormat", err)
	}
	m, err := Parse(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	// An operator the loader does not know.
	sg := &m.Subgraphs[0]
	ops := append([]Operator(nil), sg.Operators...)
	sg.Operators[0].Builtin = OpTanh
	if _, err := m.Graph(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("TANH: %v, want ErrUnsupported", err)
	}
	sg.Operators = ops
	// A fused activation it cannot run.
	sg.Operators[0].Options.Activation = ActTanh
	if _, err := m.Graph(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("fused TANH: %v, want ErrUnsupported", err)
	}
	sg.Operators[0].Options.Activation = ActNone
	if _, err := m.Graph(); err != nil {
		t.Errorf("restored model: %v", err)
	}
	m.Subgraphs = nil
	if _, err := m.Graph(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("no subgraph: %v, want ErrUnsupported", err)
	}
}
