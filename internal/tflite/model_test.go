package tflite

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/facematch/facematch/weights"
)

func TestParseMobileFaceNet(t *testing.T) {
	m, err := Parse(weights.MobileFaceNet())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Subgraphs) != 1 {
		t.Fatalf("%d subgraphs", len(m.Subgraphs))
	}
	sg := m.Subgraphs[0]
	in := sg.Tensors[sg.Inputs[0]]
	out := sg.Tensors[sg.Outputs[0]]
	if in.Type != Float32 || len(in.Shape) != 4 || in.Shape[1] != 112 || in.Shape[2] != 112 || in.Shape[3] != 3 {
		t.Errorf("input %v %v", in.Type, in.Shape)
	}
	if len(out.Shape) != 2 || out.Shape[1] != 192 {
		t.Errorf("output %v", out.Shape)
	}
	// The issue lists the operator census of this model.
	count := map[Builtin]int{}
	for _, op := range sg.Operators {
		count[op.Builtin]++
	}
	want := map[Builtin]int{OpConv2D: 35, OpDepthwiseConv2D: 17, OpAdd: 45, OpRelu: 33, OpAbs: 33, OpSub: 33, OpMul: 33, OpReshape: 1}
	for op, n := range want {
		if count[op] != n {
			t.Errorf("%v: %d operators, want %d", op, count[op], n)
		}
	}
	// Parameter count: every constant float32 buffer referenced by a tensor.
	params := 0
	seen := map[int]bool{}
	for _, ten := range sg.Tensors {
		if ten.Type == Float32 && ten.Buffer > 0 && len(m.Buffers[ten.Buffer]) > 0 && !seen[ten.Buffer] {
			seen[ten.Buffer] = true
			params += len(m.Buffers[ten.Buffer]) / 4
		}
	}
	if params != 1292992 {
		t.Errorf("%d float32 parameters, want 1292992", params)
	}
	// Options of the first operator: a 3x3 stride-2 SAME convolution.
	op0 := sg.Operators[0]
	o := op0.Options
	if op0.Builtin != OpConv2D || o.Type != OptConv2D || o.Padding != Same || o.StrideW != 2 || o.StrideH != 2 || o.DilationW != 1 || o.Activation != ActNone {
		t.Errorf("operator 0: %v %+v", op0.Builtin, o)
	}
	w := sg.Tensors[op0.Inputs[1]]
	if got := Elements(w.Shape); got != 64*3*3*3 {
		t.Errorf("conv weights %v", w.Shape)
	}
	if _, err := Float32s(m.Buffers[w.Buffer], 64*27); err != nil {
		t.Error(err)
	}
	// The GDC layer is a 7x7 VALID depthwise convolution.
	found := false
	for _, op := range sg.Operators {
		if op.Builtin == OpDepthwiseConv2D && op.Options.Padding == Valid {
			found = true
			if s := sg.Tensors[op.Inputs[1]].Shape; s[1] != 7 || s[2] != 7 || op.Options.DepthMultiplier != 1 {
				t.Errorf("GDC weights %v, options %+v", s, op.Options)
			}
		}
	}
	if !found {
		t.Error("no VALID depthwise convolution")
	}
}

func TestParseONet(t *testing.T) {
	m, err := Parse(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	count := map[Builtin]int{}
	for _, op := range m.Subgraphs[0].Operators {
		count[op.Builtin]++
		if op.Builtin == OpMaxPool2D && (op.Options.FilterW < 2 || op.Options.StrideW < 1) {
			t.Errorf("max pool options %+v", op.Options)
		}
	}
	// This export writes PReLU as RELU/NEG/MUL/ADD and softmax as
	// REDUCE_MAX/SUB/EXP/SUM/DIV.
	for _, b := range []Builtin{OpConv2D, OpMaxPool2D, OpFullyConnected, OpRelu, OpExp, OpNeg, OpSum, OpReduceMax, OpDiv} {
		if count[b] == 0 {
			t.Errorf("ONet has no %v operator (census %v)", b, count)
		}
	}
}

// TestParseTruncated cuts the model at many lengths: every cut must fail with
// ErrFormat (the root table references data up to the end of the file).
func TestParseTruncated(t *testing.T) {
	full := weights.MobileFaceNet()
	cuts := []int{0, 1, 4, 7, 8, 16, 64, 1000, 4096}
	r := rand.New(rand.NewPCG(7, 7))
	for range 40 {
		cuts = append(cuts, r.IntN(len(full)-16))
	}
	// (The last few bytes of the file are alignment padding that nothing
	// references, so cuts stop 16 bytes short of the end.)
	cuts = append(cuts, len(full)-16)
	for _, n := range cuts {
		m, err := Parse(full[:n:n])
		if err == nil {
			t.Errorf("Parse of %d/%d bytes succeeded (%d subgraphs)", n, len(full), len(m.Subgraphs))
			continue
		}
		if !errors.Is(err, ErrFormat) {
			t.Errorf("Parse of %d bytes: %v does not wrap ErrFormat", n, err)
		}
	}
}

// TestParseCorrupt overwrites the table area (everything outside the big
// weight buffers is offsets and vtables) with random bytes: Parse must
// return, never panic, and either error with ErrFormat or a consistent model.
func TestParseCorrupt(t *testing.T) {
	full := weights.MobileFaceNet()
	r := rand.New(rand.NewPCG(1, 9))
	n := 300
	if testing.Short() {
		n = 50
	}
	buf := make([]byte, len(full))
	for range n {
		copy(buf, full)
		for range 1 + r.IntN(8) {
			// Bias the hits towards the head and tail where the tables live.
			var off int
			switch r.IntN(3) {
			case 0:
				off = r.IntN(4096)
			case 1:
				off = len(buf) - 1 - r.IntN(64<<10)
			default:
				off = r.IntN(len(buf))
			}
			buf[off] = byte(r.Uint32())
		}
		checkParse(t, buf)
	}
}

func checkParse(t *testing.T, data []byte) {
	t.Helper()
	m, err := Parse(data)
	if err != nil {
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		return
	}
	for _, sg := range m.Subgraphs {
		for _, ten := range sg.Tensors {
			if ten.Buffer < 0 || (len(m.Buffers) > 0 && ten.Buffer >= len(m.Buffers)) {
				t.Fatalf("tensor buffer %d of %d", ten.Buffer, len(m.Buffers))
			}
		}
		for _, op := range sg.Operators {
			if op.Opcode < 0 || op.Opcode >= len(m.OperatorCodes) {
				t.Fatalf("opcode %d of %d", op.Opcode, len(m.OperatorCodes))
			}
			for _, i := range append(append([]int{}, op.Inputs...), op.Outputs...) {
				if i < -1 || i >= len(sg.Tensors) {
					t.Fatalf("tensor index %d of %d", i, len(sg.Tensors))
				}
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x00\x00\x00TFL3"))
	f.Add([]byte("\x0c\x00\x00\x00TFL3\x00\x00\x00\x00\x08\x00\x00\x00"))
	full := weights.ONet()
	f.Add(full[:256])
	f.Add(full)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data)
	})
}

func TestElements(t *testing.T) {
	for _, c := range []struct {
		shape []int
		want  int
	}{{nil, 1}, {[]int{2, 3}, 6}, {[]int{1, -1}, -1}, {[]int{1 << 20, 1 << 20}, -1}, {[]int{0, 5}, 0}} {
		if got := Elements(c.shape); got != c.want {
			t.Errorf("Elements(%v) = %d, want %d", c.shape, got, c.want)
		}
	}
}
