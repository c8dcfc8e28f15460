package embed

import (
	"errors"
	"fmt"

	"github.com/facematch/facematch/internal/gemm"
	"github.com/facematch/facematch/internal/tflite"
)

// step is one fused layer applied to earlier values. Value 0 is the network
// input; step i produces value i+1.
type step struct {
	l      layer
	inputs []int
	ops    []int // indices of the TFLite operators fused into this step
}

// network is a compiled model: read-only weights shared by all workers.
type network struct {
	input  shape3
	steps  []step
	output int // value holding the raw embedding
	dim    int
}

// valueShape returns the shape of value v.
func (n *network) valueShape(v int) shape3 {
	if v == 0 {
		return n.input
	}
	return n.steps[v-1].l.outShape()
}

var errUnsupported = errors.New("unsupported operator")

type compiler struct {
	m     *tflite.Model
	sg    *tflite.Subgraph
	net   *network
	val   map[int]int // tensor index → value id
	uses  map[int][]int
	fused map[int]bool // operator index consumed by a pattern
}

// compile turns a parsed TFLite model into a network of fused layers. It
// supports float32 CNNs made of CONV_2D, DEPTHWISE_CONV_2D, ADD, RELU, RELU6,
// PRELU (and the RELU/ABS/SUB/MUL/ADD PReLU pattern) and RESHAPE with batch
// semantics "one image at a time".
func compile(m *tflite.Model) (*network, error) {
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("%w: no subgraph", ErrModel)
	}
	sg := &m.Subgraphs[0]
	if len(sg.Inputs) != 1 || len(sg.Outputs) != 1 {
		return nil, fmt.Errorf("%w: want 1 input and 1 output, have %d and %d", ErrModel, len(sg.Inputs), len(sg.Outputs))
	}
	c := &compiler{m: m, sg: sg, net: &network{}, val: map[int]int{}, uses: map[int][]int{}, fused: map[int]bool{}}
	in := sg.Tensors[sg.Inputs[0]]
	if in.Type != tflite.Float32 || len(in.Shape) != 4 || in.Shape[1] <= 0 || in.Shape[2] <= 0 || in.Shape[3] <= 0 {
		return nil, fmt.Errorf("%w: input tensor %q must be float32 NHWC, is %v %v", ErrModel, in.Name, in.Type, in.Shape)
	}
	if in.Shape[1] > 1<<14 || in.Shape[2] > 1<<14 || in.Shape[3] > 1<<14 || tflite.Elements(in.Shape[1:]) > 1<<24 {
		return nil, fmt.Errorf("%w: input %v too large", ErrModel, in.Shape)
	}
	c.net.input = shape3{in.Shape[1], in.Shape[2], in.Shape[3]}
	c.val[sg.Inputs[0]] = 0
	for i, op := range sg.Operators {
		for _, t := range op.Inputs {
			if t >= 0 {
				c.uses[t] = append(c.uses[t], i)
			}
		}
	}
	for i := range sg.Operators {
		if c.fused[i] {
			continue
		}
		if err := c.op(i); err != nil {
			op := sg.Operators[i]
			return nil, fmt.Errorf("%w: operator %d (%v): %w", ErrModel, i, op.Builtin, err)
		}
	}
	v, ok := c.val[sg.Outputs[0]]
	if !ok {
		return nil, fmt.Errorf("%w: output tensor is never computed", ErrModel)
	}
	if v == 0 {
		return nil, fmt.Errorf("%w: output is the input", ErrModel)
	}
	c.net.output = v
	c.net.dim = c.net.valueShape(v).size()
	return c.net, nil
}

// constData returns the float32 contents of a constant tensor.
func (c *compiler) constData(t int, wantShape ...int) ([]float32, error) {
	if t < 0 {
		return nil, fmt.Errorf("missing constant input")
	}
	ten := c.sg.Tensors[t]
	if ten.Type != tflite.Float32 {
		return nil, fmt.Errorf("tensor %q is %v, want FLOAT32", ten.Name, ten.Type)
	}
	if ten.Buffer <= 0 || ten.Buffer >= len(c.m.Buffers) || len(c.m.Buffers[ten.Buffer]) == 0 {
		return nil, fmt.Errorf("tensor %q has no constant data", ten.Name)
	}
	n := tflite.Elements(ten.Shape)
	if n < 0 {
		return nil, fmt.Errorf("tensor %q has shape %v", ten.Name, ten.Shape)
	}
	if wantShape != nil {
		if len(wantShape) != len(ten.Shape) {
			return nil, fmt.Errorf("tensor %q has shape %v, want %v", ten.Name, ten.Shape, wantShape)
		}
		for i, d := range wantShape {
			if d >= 0 && ten.Shape[i] != d {
				return nil, fmt.Errorf("tensor %q has shape %v, want %v", ten.Name, ten.Shape, wantShape)
			}
		}
	}
	return tflite.Float32s(c.m.Buffers[ten.Buffer], n)
}

func (c *compiler) isConst(t int) bool {
	if t < 0 {
		return false
	}
	b := c.sg.Tensors[t].Buffer
	return b > 0 && b < len(c.m.Buffers) && len(c.m.Buffers[b]) > 0
}

// activation value input of operator i at position k.
func (c *compiler) input(i, k int) (int, shape3, error) {
	op := c.sg.Operators[i]
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return 0, shape3{}, fmt.Errorf("missing input %d", k)
	}
	v, ok := c.val[op.Inputs[k]]
	if !ok {
		return 0, shape3{}, fmt.Errorf("input tensor %q is not computed before use", c.sg.Tensors[op.Inputs[k]].Name)
	}
	return v, c.net.valueShape(v), nil
}

func (c *compiler) add(l layer, inputs []int, ops []int, outTensor int) {
	c.net.steps = append(c.net.steps, step{l: l, inputs: inputs, ops: ops})
	c.val[outTensor] = len(c.net.steps)
}

// checkOut verifies the declared shape of an operator's output tensor (batch
// dimension ignored) against the computed one.
func (c *compiler) checkOut(t int, s shape3) error {
	sh := c.sg.Tensors[t].Shape
	var got shape3
	switch len(sh) {
	case 4:
		got = shape3{sh[1], sh[2], sh[3]}
	case 2:
		got = shape3{1, 1, sh[1]}
		s = shape3{1, 1, s.size()}
	default:
		return fmt.Errorf("output tensor shape %v", sh)
	}
	if got != s {
		return fmt.Errorf("output tensor %q declared %v, computed %v", c.sg.Tensors[t].Name, got, s)
	}
	return nil
}

// fuseActivation looks for a PReLU pattern (or a lone RELU/RELU6/PRELU) that
// consumes tensor t as its only user and returns the activation, the tensor
// that holds the activated result, and the operator indices it covers.
func (c *compiler) fuseActivation(t int) (activation, int, []int) {
	users := c.uses[t]
	ops := c.sg.Operators
	if len(users) == 1 {
		u := users[0]
		op := ops[u]
		if len(op.Outputs) == 1 {
			switch op.Builtin {
			case tflite.OpRelu:
				return activation{kind: actRelu}, op.Outputs[0], []int{u}
			case tflite.OpRelu6:
				return activation{kind: actRelu6}, op.Outputs[0], []int{u}
			case tflite.OpPRelu:
				if len(op.Inputs) == 2 && op.Inputs[0] == t {
					if a, err := c.alpha(op.Inputs[1]); err == nil {
						return activation{kind: actPReLU, alpha: a}, op.Outputs[0], []int{u}
					}
				}
			}
		}
	}
	if p, ok := c.prelu2(t); ok {
		return p.act, p.out, p.ops
	}
	return activation{}, t, nil
}

// alpha decodes a per-channel PReLU slope tensor ([C], [1,C], [1,1,C]).
func (c *compiler) alpha(t int) ([]float32, error) {
	return c.constData(t)
}

type preluMatch struct {
	act activation
	out int
	ops []int
}

// prelu2 matches relu(x) + c·(x-|x|) over RELU, ABS, SUB, MUL, ADD operators
// whose intermediate tensors have no other users.
func (c *compiler) prelu2(x int) (preluMatch, bool) {
	ops := c.sg.Operators
	users := c.uses[x]
	if len(users) != 3 {
		return preluMatch{}, false
	}
	var relu, abs, sub = -1, -1, -1
	for _, u := range users {
		switch ops[u].Builtin {
		case tflite.OpRelu:
			relu = u
		case tflite.OpAbs:
			abs = u
		case tflite.OpSub:
			sub = u
		}
	}
	if relu < 0 || abs < 0 || sub < 0 {
		return preluMatch{}, false
	}
	single := func(i int) (int, bool) {
		if len(ops[i].Outputs) != 1 || len(c.uses[ops[i].Outputs[0]]) != 1 {
			return 0, false
		}
		return ops[i].Outputs[0], true
	}
	reluOut, ok1 := single(relu)
	absOut, ok2 := single(abs)
	subOut, ok3 := single(sub)
	if !ok1 || !ok2 || !ok3 || len(ops[sub].Inputs) != 2 || ops[sub].Inputs[0] != x || ops[sub].Inputs[1] != absOut {
		return preluMatch{}, false
	}
	if ops[sub].Options.Activation != tflite.ActNone {
		return preluMatch{}, false
	}
	mul := c.uses[subOut][0]
	if ops[mul].Builtin != tflite.OpMul || len(ops[mul].Inputs) != 2 || ops[mul].Options.Activation != tflite.ActNone {
		return preluMatch{}, false
	}
	coef := ops[mul].Inputs[0]
	if coef == subOut {
		coef = ops[mul].Inputs[1]
	}
	mulOut, ok := single(mul)
	if !ok || !c.isConst(coef) {
		return preluMatch{}, false
	}
	add := c.uses[mulOut][0]
	if c.uses[reluOut][0] != add || ops[add].Builtin != tflite.OpAdd || len(ops[add].Outputs) != 1 || ops[add].Options.Activation != tflite.ActNone {
		return preluMatch{}, false
	}
	a, err := c.alpha(coef)
	if err != nil {
		return preluMatch{}, false
	}
	return preluMatch{
		act: activation{kind: actPReLU2, alpha: a},
		out: ops[add].Outputs[0],
		ops: []int{relu, abs, sub, mul, add},
	}, true
}

func fusedAct(a tflite.Activation) (activation, error) {
	switch a {
	case tflite.ActNone:
		return activation{}, nil
	case tflite.ActRelu:
		return activation{kind: actRelu}, nil
	case tflite.ActRelu6:
		return activation{kind: actRelu6}, nil
	}
	return activation{}, fmt.Errorf("fused activation %d: %w", a, errUnsupported)
}

// withAct combines a layer's fused activation with a following activation
// pattern; only one of them may be non-linear.
func (c *compiler) withAct(i int, own activation) (activation, int, []int, error) {
	out := c.sg.Operators[i].Outputs[0]
	if own.kind != actNone {
		return own, out, []int{i}, nil
	}
	act, o, ops := c.fuseActivation(out)
	for _, k := range ops {
		c.fused[k] = true
	}
	return act, o, append([]int{i}, ops...), nil
}

func checkAlpha(a activation, ch int) error {
	if (a.kind == actPReLU || a.kind == actPReLU2) && len(a.alpha) != ch {
		return fmt.Errorf("PReLU slope has %d values for %d channels", len(a.alpha), ch)
	}
	return nil
}

func (c *compiler) op(i int) error {
	op := c.sg.Operators[i]
	if len(op.Outputs) != 1 {
		return fmt.Errorf("%d outputs: %w", len(op.Outputs), errUnsupported)
	}
	if ok, err := c.prelu2Standalone(i); ok {
		return err
	}
	o := op.Options
	switch op.Builtin {
	case tflite.OpConv2D, tflite.OpDepthwiseConv2D:
		if len(op.Inputs) < 2 {
			return fmt.Errorf("%d inputs", len(op.Inputs))
		}
		v, s, err := c.input(i, 0)
		if err != nil {
			return err
		}
		wt := op.Inputs[1]
		if wt < 0 || len(c.sg.Tensors[wt].Shape) != 4 {
			return fmt.Errorf("weights must be 4-D")
		}
		ws := c.sg.Tensors[wt].Shape
		dw := op.Builtin == tflite.OpDepthwiseConv2D
		oc, kh, kw, ic := ws[0], ws[1], ws[2], ws[3]
		if dw {
			oc, ic = ws[3], s.C
			if ws[0] != 1 || oc != s.C || o.DepthMultiplier != 1 {
				return fmt.Errorf("depthwise weights %v on %d channels (multiplier %d): %w", ws, s.C, o.DepthMultiplier, errUnsupported)
			}
		} else if ic != s.C {
			return fmt.Errorf("weights %v on %d input channels", ws, s.C)
		}
		if oc <= 0 || kh <= 0 || kw <= 0 || o.StrideH <= 0 || o.StrideW <= 0 || o.DilationH <= 0 || o.DilationW <= 0 ||
			oc > 1<<16 || kh > 64 || kw > 64 || o.StrideH > 64 || o.StrideW > 64 || o.DilationH > 64 || o.DilationW > 64 {
			return fmt.Errorf("bad geometry: weights %v, options %+v", ws, o)
		}
		w, err := c.constData(wt)
		if err != nil {
			return err
		}
		var bias []float32
		if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
			if bias, err = c.constData(op.Inputs[2], oc); err != nil {
				return err
			}
		}
		var oh, ow, pt, pl int
		switch o.Padding {
		case tflite.Same:
			oh, pt = samePad(s.H, kh, o.StrideH, o.DilationH)
			ow, pl = samePad(s.W, kw, o.StrideW, o.DilationW)
		case tflite.Valid:
			oh, ow = validOut(s.H, kh, o.StrideH, o.DilationH), validOut(s.W, kw, o.StrideW, o.DilationW)
		default:
			return fmt.Errorf("padding %d: %w", o.Padding, errUnsupported)
		}
		if oh <= 0 || ow <= 0 {
			return fmt.Errorf("empty output for input %v and kernel %dx%d", s, kh, kw)
		}
		own, err := fusedAct(o.Activation)
		if err != nil {
			return err
		}
		act, outT, ops, err := c.withAct(i, own)
		if err != nil {
			return err
		}
		out := shape3{oh, ow, oc}
		if err := checkAlpha(act, oc); err != nil {
			return err
		}
		if err := c.checkOut(op.Outputs[0], out); err != nil {
			return err
		}
		if int64(oh)*int64(ow)*int64(oc) > 1<<24 || int64(oh)*int64(ow)*int64(kh)*int64(kw)*int64(ic) > 1<<26 {
			return fmt.Errorf("layer too large: %v", out)
		}
		var l layer
		if dw {
			l = &dwLayer{in: s, out: out, kh: kh, kw: kw, sh: o.StrideH, sw: o.StrideW, dh: o.DilationH, dw: o.DilationW,
				padT: pt, padL: pl, w: w, act: act, ep: newEpilogue(bias, act, oc)}
		} else {
			k := kh * kw * ic
			cl := &convLayer{in: s, out: out, kh: kh, kw: kw, sh: o.StrideH, sw: o.StrideW, dh: o.DilationH, dw: o.DilationW,
				padT: pt, padL: pl, k: k, bp: gemm.PackB(w, oc, k), act: act, ep: newEpilogue(bias, act, oc)}
			cl.direct = kh == 1 && kw == 1 && o.StrideH == 1 && o.StrideW == 1 && pt == 0 && pl == 0
			l = cl
		}
		c.add(l, []int{v}, ops, outT)
		return nil
	case tflite.OpAdd:
		if len(op.Inputs) != 2 {
			return fmt.Errorf("%d inputs", len(op.Inputs))
		}
		a, sa, err := c.input(i, 0)
		if err != nil {
			return fmt.Errorf("%v (constant operands: %w)", err, errUnsupported)
		}
		b, sb, err := c.input(i, 1)
		if err != nil {
			return fmt.Errorf("%v (constant operands: %w)", err, errUnsupported)
		}
		if sa != sb {
			return fmt.Errorf("broadcast %v + %v: %w", sa, sb, errUnsupported)
		}
		own, err := fusedAct(o.Activation)
		if err != nil {
			return err
		}
		act, outT, ops, err := c.withAct(i, own)
		if err != nil {
			return err
		}
		if err := checkAlpha(act, sa.C); err != nil {
			return err
		}
		if err := c.checkOut(op.Outputs[0], sa); err != nil {
			return err
		}
		c.add(&addLayer{shape: sa, act: act, ep: newEpilogue(nil, act, sa.C)}, []int{a, b}, ops, outT)
		return nil
	case tflite.OpRelu, tflite.OpRelu6, tflite.OpPRelu:
		v, s, err := c.input(i, 0)
		if err != nil {
			return err
		}
		var act activation
		switch op.Builtin {
		case tflite.OpRelu:
			act.kind = actRelu
		case tflite.OpRelu6:
			act.kind = actRelu6
		default:
			if len(op.Inputs) != 2 {
				return fmt.Errorf("PRELU needs 2 inputs")
			}
			a, err := c.alpha(op.Inputs[1])
			if err != nil {
				return err
			}
			act = activation{kind: actPReLU, alpha: a}
		}
		if err := checkAlpha(act, s.C); err != nil {
			return err
		}
		c.add(&actLayer{shape: s, act: act, ep: newEpilogue(nil, act, s.C)}, []int{v}, []int{i}, op.Outputs[0])
		return nil
	case tflite.OpReshape:
		v, s, err := c.input(i, 0)
		if err != nil {
			return err
		}
		sh := c.sg.Tensors[op.Outputs[0]].Shape
		n := tflite.Elements(sh)
		if len(sh) == 0 || n < 0 || sh[0] <= 0 || n/sh[0] != s.size() {
			return fmt.Errorf("reshape %v to %v: %w", s, sh, errUnsupported)
		}
		// Row-major data is unchanged by a reshape: alias the value.
		c.val[op.Outputs[0]] = v
		return nil
	}
	return errUnsupported
}

// prelu2Standalone handles a PReLU pattern whose input is not produced by a
// layer with a fusable epilogue (for example the network input or an ADD with
// its own activation). It is reached at the pattern's first operator.
func (c *compiler) prelu2Standalone(i int) (bool, error) {
	op := c.sg.Operators[i]
	if op.Builtin != tflite.OpRelu && op.Builtin != tflite.OpAbs && op.Builtin != tflite.OpSub {
		return false, nil
	}
	if len(op.Inputs) == 0 || op.Inputs[0] < 0 {
		return false, nil
	}
	x := op.Inputs[0]
	p, ok := c.prelu2(x)
	if !ok {
		return false, nil
	}
	v, s, err := c.input(i, 0)
	if err != nil {
		return true, err
	}
	if err := checkAlpha(p.act, s.C); err != nil {
		return true, err
	}
	for _, k := range p.ops {
		c.fused[k] = true
	}
	c.add(&actLayer{shape: s, act: p.act, ep: newEpilogue(nil, p.act, s.C)}, []int{v}, p.ops, p.out)
	return true, nil
}
