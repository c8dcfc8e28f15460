package onet

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/facematch/facematch/internal/gemm"
	"github.com/facematch/facematch/internal/tflite"
)

// ErrModel reports model bytes that are not a usable ONet TFLite graph.
var ErrModel = errors.New("onet: unusable model")

// Input is the side of the square crop the network reads.
const Input = 48

// Builtin codes this interpreter needs beyond those named by package tflite.
const (
	opNeg       tflite.Builtin = 59
	opExp       tflite.Builtin = 47
	opSum       tflite.Builtin = 74
	opReduceMax tflite.Builtin = 82
)

// Net is a compiled ONet. It is safe for concurrent use: each Run draws its
// own workspace from a pool.
type Net struct {
	shapes  [][]int     // per tensor
	consts  [][]float32 // per tensor; nil for activations
	unused  []bool      // per tensor: an activation no step writes or reads (fused away)
	colSize int         // im2col buffer length of the largest convolution
	steps   []step
	input   int
	outLm   int // [1,10]: x1..x5, y1..y5 relative to the crop
	outReg  int // [1,4]: box regression
	outProb int // [1,2]: background, face
	scratch sync.Pool
}

// workspace is the memory of one forward pass.
type workspace struct {
	t   [][]float32 // per tensor: the shared constants and this pass's activations
	col []float32   // im2col buffer
	g   gemm.Scratch
}

// step is one compiled operator (or fused group of operators).
type step func(ws *workspace)

// New compiles the ONet graph held in model (TFLite flatbuffer bytes).
func New(model []byte) (*Net, error) {
	m, err := tflite.Parse(model)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	sg := m.Subgraphs[0]
	n := &Net{shapes: make([][]int, len(sg.Tensors)), consts: make([][]float32, len(sg.Tensors))}
	for i, t := range sg.Tensors {
		n.shapes[i] = t.Shape
		if t.Buffer > 0 && t.Buffer < len(m.Buffers) && len(m.Buffers[t.Buffer]) > 0 {
			if t.Type == tflite.Float32 {
				if n.consts[i], err = tflite.Float32s(m.Buffers[t.Buffer], tflite.Elements(t.Shape)); err != nil {
					return nil, fmt.Errorf("%w: tensor %q: %w", ErrModel, t.Name, err)
				}
			} else if t.Type == tflite.Int32 {
				v, err := tflite.Int32s(m.Buffers[t.Buffer])
				if err != nil {
					return nil, fmt.Errorf("%w: tensor %q: %w", ErrModel, t.Name, err)
				}
				f := make([]float32, len(v))
				for k, x := range v {
					f[k] = float32(x)
				}
				n.consts[i] = f
			}
		}
	}
	if len(sg.Inputs) != 1 || !shapeIs(n.shapes[sg.Inputs[0]], 1, Input, Input, 3) {
		return nil, fmt.Errorf("%w: want one [1 48 48 3] input", ErrModel)
	}
	n.input = sg.Inputs[0]
	n.outLm, n.outReg, n.outProb = -1, -1, -1
	for _, o := range sg.Outputs {
		switch {
		case shapeIs(n.shapes[o], 1, 10):
			n.outLm = o
		case shapeIs(n.shapes[o], 1, 4):
			n.outReg = o
		case shapeIs(n.shapes[o], 1, 2):
			n.outProb = o
		}
	}
	if n.outLm < 0 || n.outReg < 0 || n.outProb < 0 {
		return nil, fmt.Errorf("%w: want outputs [1 10], [1 4] and [1 2]", ErrModel)
	}
	// How often each tensor is read (graph outputs count as a read).
	reads := make([]int, len(n.shapes))
	for _, o := range sg.Outputs {
		reads[o]++
	}
	for k, op := range sg.Operators {
		for _, i := range append(append([]int(nil), op.Inputs...), op.Outputs...) {
			if i < 0 || i >= len(n.shapes) {
				return nil, fmt.Errorf("%w: operator %d (%v): tensor index %d out of range", ErrModel, k, op.Builtin, i)
			}
		}
		for _, i := range op.Inputs {
			reads[i]++
		}
	}
	n.unused = make([]bool, len(n.shapes))
	ops := sg.Operators
	for k := 0; k < len(ops); k++ {
		op := ops[k]
		alpha, out, inner, fused := n.preluAfter(ops, k, reads)
		var s step
		switch {
		case fused && op.Builtin == tflite.OpConv2D:
			s, err = n.conv(op, out, alpha)
		case fused:
			s, err = n.fullyConnected(op, out, alpha)
		default:
			s, err = n.compile(op)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: operator %d (%v): %w", ErrModel, k, op.Builtin, err)
		}
		n.steps = append(n.steps, s)
		if fused {
			for _, i := range inner {
				n.unused[i] = true
			}
			k += 6 // the PReLU operators
		}
	}
	n.scratch.New = func() any {
		ws := &workspace{t: make([][]float32, len(n.shapes)), col: make([]float32, n.colSize)}
		for i, c := range n.consts {
			if c != nil {
				ws.t[i] = c
			} else if e := tflite.Elements(n.shapes[i]); e > 0 && !n.unused[i] {
				ws.t[i] = make([]float32, e)
			}
		}
		return ws
	}
	return n, nil
}

// preluAfter reports whether the six operators after ops[k], a CONV_2D or
// FULLY_CONNECTED without fused activation, spell PReLU on its output x the
// way this export writes it:
//
//	relu(x) + alpha·(−relu(−x))   as RELU, NEG, RELU, NEG, MUL, ADD
//
// with alpha a per-channel constant and every tensor from x to the MUL's
// output read only inside the pattern. It returns alpha, the ADD's output
// and those inner tensors, which the fused step does not need.
//
// The pattern equals max(x,0) + alpha·min(x,0) bit for bit (−relu(−x) is
// min(x,0) up to the sign of zero, and one of the two terms is always a
// zero), which is gemm's PReLU epilogue.
func (n *Net) preluAfter(ops []tflite.Operator, k int, reads []int) (alpha []float32, out int, inner []int, ok bool) {
	op := ops[k]
	if (op.Builtin != tflite.OpConv2D && op.Builtin != tflite.OpFullyConnected) ||
		op.Options.Activation != tflite.ActNone || len(op.Outputs) != 1 || k+6 >= len(ops) {
		return nil, 0, nil, false
	}
	x := op.Outputs[0]
	p := ops[k+1 : k+7]
	// is reports whether o is code applied to exactly the tensors in.
	is := func(o tflite.Operator, code tflite.Builtin, in ...int) bool {
		if o.Builtin != code || o.Options.Activation != tflite.ActNone || len(o.Outputs) != 1 || len(o.Inputs) != len(in) {
			return false
		}
		if len(in) == 2 && o.Inputs[0] == in[1] && o.Inputs[1] == in[0] {
			return true // MUL and ADD commute
		}
		for i, v := range in {
			if o.Inputs[i] != v {
				return false
			}
		}
		return true
	}
	pos, neg := p[0].Outputs[0], p[1].Outputs[0] // relu(x), −x
	if !is(p[0], tflite.OpRelu, x) || !is(p[1], opNeg, x) || !is(p[2], tflite.OpRelu, neg) || !is(p[3], opNeg, p[2].Outputs[0]) {
		return nil, 0, nil, false
	}
	low := p[3].Outputs[0] // −relu(−x) = min(x,0)
	if p[4].Builtin != tflite.OpMul || len(p[4].Inputs) != 2 {
		return nil, 0, nil, false
	}
	a := p[4].Inputs[0]
	if a == low {
		a = p[4].Inputs[1]
	}
	xs := n.shapes[x]
	if len(xs) == 0 || len(n.consts[a]) != xs[len(xs)-1] || !is(p[4], tflite.OpMul, a, low) ||
		!is(p[5], tflite.OpAdd, pos, p[4].Outputs[0]) {
		return nil, 0, nil, false
	}
	out = p[5].Outputs[0]
	if !shapeIs(n.shapes[out], xs...) || n.consts[out] != nil {
		return nil, 0, nil, false
	}
	inner = []int{x, pos, neg, p[2].Outputs[0], low, p[4].Outputs[0]}
	for i, t := range inner {
		want := 1
		if i == 0 {
			want = 2 // x feeds RELU and NEG
		}
		if reads[t] != want || n.consts[t] != nil {
			return nil, 0, nil, false
		}
	}
	return n.consts[a], out, inner, true
}

func shapeIs(s []int, want ...int) bool {
	if len(s) != len(want) {
		return false
	}
	for i := range s {
		if s[i] != want[i] {
			return false
		}
	}
	return true
}

// forward runs the graph on in (NHWC [1,48,48,3], already normalised) and
// copies the three outputs out.
func (n *Net) forward(in []float32) (lm [10]float32, reg [4]float32, prob [2]float32) {
	ws := n.scratch.Get().(*workspace)
	copy(ws.t[n.input], in)
	for _, s := range n.steps {
		s(ws)
	}
	copy(lm[:], ws.t[n.outLm])
	copy(reg[:], ws.t[n.outReg])
	copy(prob[:], ws.t[n.outProb])
	n.scratch.Put(ws)
	return
}

func (n *Net) activation(op tflite.Operator) (func(float32) float32, error) {
	switch op.Options.Activation {
	case tflite.ActNone:
		return nil, nil
	case tflite.ActRelu:
		return func(v float32) float32 { return max(v, 0) }, nil
	case tflite.ActRelu6:
		return func(v float32) float32 { return min(max(v, 0), 6) }, nil
	}
	return nil, fmt.Errorf("fused activation %d unsupported", op.Options.Activation)
}

func (n *Net) compile(op tflite.Operator) (step, error) {
	in := op.Inputs
	if len(op.Outputs) != 1 {
		return nil, errors.New("want one output")
	}
	out := op.Outputs[0] // New checked every tensor index
	os := n.shapes[out]
	if n.consts[out] != nil || tflite.Elements(os) <= 0 {
		return nil, errors.New("bad output tensor")
	}
	act, err := n.activation(op)
	if err != nil {
		return nil, err
	}
	switch op.Builtin {
	case tflite.OpConv2D:
		return n.conv(op, out, nil)
	case tflite.OpMaxPool2D:
		return n.maxPool(op)
	case tflite.OpFullyConnected:
		return n.fullyConnected(op, out, nil)
	case tflite.OpRelu:
		return n.unary(in, out, func(v float32) float32 { return max(v, 0) })
	case opNeg:
		return n.unary(in, out, func(v float32) float32 { return -v })
	case opExp:
		return n.unary(in, out, func(v float32) float32 { return float32(math.Exp(float64(v))) })
	case tflite.OpAdd:
		return n.binary(in, out, act, func(a, b float32) float32 { return a + b })
	case tflite.OpSub:
		return n.binary(in, out, act, func(a, b float32) float32 { return a - b })
	case tflite.OpMul:
		return n.binary(in, out, act, func(a, b float32) float32 { return a * b })
	case tflite.OpDiv:
		return n.binary(in, out, act, func(a, b float32) float32 { return a / b })
	case opSum:
		return n.reduceLast(in, out, 0, func(acc, v float32) float32 { return acc + v })
	case opReduceMax:
		return n.reduceLast(in, out, float32(math.Inf(-1)), func(acc, v float32) float32 { return max(acc, v) })
	}
	return nil, errors.New("operator unsupported")
}

func (n *Net) unary(in []int, out int, f func(float32) float32) (step, error) {
	if len(in) != 1 || tflite.Elements(n.shapes[in[0]]) != tflite.Elements(n.shapes[out]) {
		return nil, errors.New("want one input of the output's size")
	}
	a := in[0]
	return func(ws *workspace) {
		x, y := ws.t[a], ws.t[out]
		for i := range y {
			y[i] = f(x[i])
		}
	}, nil
}

// binary supports equal sizes and the broadcasts ONet uses: one operand
// repeating along the last axis (per-channel PReLU slopes) or along all but the
// last axis (a [1,1] max or sum against [1,2]).
func (n *Net) binary(in []int, out int, act func(float32) float32, f func(a, b float32) float32) (step, error) {
	if len(in) != 2 {
		return nil, errors.New("want two inputs")
	}
	ne := tflite.Elements(n.shapes[out])
	ea, eb := tflite.Elements(n.shapes[in[0]]), tflite.Elements(n.shapes[in[1]])
	os := n.shapes[out]
	last := os[len(os)-1]
	index := func(e int) (func(i int) int, error) {
		switch {
		case e == ne:
			return func(i int) int { return i }, nil
		case e == last:
			return func(i int) int { return i % last }, nil
		case e == ne/last && ne%last == 0:
			return func(i int) int { return i / last }, nil
		}
		return nil, fmt.Errorf("cannot broadcast %d elements to %v", e, os)
	}
	ia, err := index(ea)
	if err != nil {
		return nil, err
	}
	ib, err := index(eb)
	if err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	return func(ws *workspace) {
		x, y, z := ws.t[a], ws.t[b], ws.t[out]
		for i := range z {
			v := f(x[ia(i)], y[ib(i)])
			if act != nil {
				v = act(v)
			}
			z[i] = v
		}
	}, nil
}

func (n *Net) reduceLast(in []int, out int, init float32, f func(acc, v float32) float32) (step, error) {
	if len(in) != 2 || n.consts[in[1]] == nil || len(n.consts[in[1]]) != 1 {
		return nil, errors.New("want an input and a constant axis")
	}
	s := n.shapes[in[0]]
	if ax := int(n.consts[in[1]][0]); ax != len(s)-1 && ax != -1 {
		return nil, fmt.Errorf("reduction over axis %d unsupported", ax)
	}
	last := s[len(s)-1]
	if tflite.Elements(n.shapes[out])*last != tflite.Elements(s) {
		return nil, errors.New("output size does not match a last-axis reduction")
	}
	a := in[0]
	return func(ws *workspace) {
		x, y := ws.t[a], ws.t[out]
		for i := range y {
			acc := init
			for _, v := range x[i*last : (i+1)*last] {
				acc = f(acc, v)
			}
			y[i] = acc
		}
	}, nil
}
