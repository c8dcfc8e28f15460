package tflite

import (
	"errors"
	"fmt"

	"github.com/facematch/facematch/internal/nn"
)

// ErrUnsupported is wrapped by Graph's errors for well-formed models that
// use an operator, option or layout it does not translate.
var ErrUnsupported = errors.New("tflite: unsupported model")

// Load parses a TFLite flatbuffer and translates its first subgraph with
// Graph.
func Load(data []byte) (*nn.Graph, error) {
	m, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return m.Graph()
}

// Graph translates the model's first subgraph — a float32 CNN taking
// [N,H,W,C] images, run one at a time — into an nn.Graph, with the graph's outputs in the
// subgraph's output order. It turns the file's layouts into nn's (NHWC
// activations into C x H x W values, [out,kh,kw,in] and [1,kh,kw,c]
// filters into OIHW, FULLY_CONNECTED weights over an NHWC-flattened input
// into C, H, W order, SAME padding into explicit pads) and recognises the
// patterns exporters write for operations TFLite lacks or that they
// decompose:
//
//   - PReLU as relu(x) + c·(x−|x|) (RELU, ABS, SUB, MUL, ADD): slope 2c,
//     which gives the same bits as the pattern (for x<0 both round 2c·x);
//   - PReLU as relu(x) + a·(−relu(−x)) (RELU, NEG, RELU, NEG, MUL, ADD):
//     slope a;
//   - softmax as exp(x−max x) / Σ exp(x−max x) (REDUCE_MAX, SUB, EXP, SUM,
//     DIV) over the last axis of a [1,N] tensor (nn.Softmax) or of a
//     [1,H,W,C] tensor, per pixel over its channels (nn.SoftmaxChannels,
//     MTCNN's P-Net);
//
// and then folds activations into the layer before them
// (nn.FuseActivations). Errors wrap ErrUnsupported.
func (m *Model) Graph() (g *nn.Graph, err error) {
	defer func() {
		if r := recover(); r != nil { // a bug: report it rather than crash the caller
			g, err = nil, fmt.Errorf("%w: translating the model panicked: %v", ErrUnsupported, r)
		}
	}()
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("%w: no subgraph", ErrUnsupported)
	}
	sg := &m.Subgraphs[0]
	if len(sg.Inputs) != 1 || len(sg.Outputs) == 0 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs, want 1 and at least 1", ErrUnsupported, len(sg.Inputs), len(sg.Outputs))
	}
	in := sg.Tensors[sg.Inputs[0]]
	if in.Type != Float32 || len(in.Shape) != 4 || in.Shape[0] <= 0 || in.Shape[1] <= 0 || in.Shape[2] <= 0 || in.Shape[3] <= 0 ||
		in.Shape[1] > 1<<14 || in.Shape[2] > 1<<14 || in.Shape[3] > 1<<14 || Elements(in.Shape[1:]) > 1<<24 {
		return nil, fmt.Errorf("%w: input tensor %q must be float32 [N,H,W,C], is %v %v", ErrUnsupported, in.Name, in.Type, in.Shape)
	}
	l := &lowering{m: m, sg: sg, val: map[int]int{}, uses: map[int][]int{}, done: make([]bool, len(sg.Operators))}
	l.g.Input = nn.Shape{C: in.Shape[3], H: in.Shape[1], W: in.Shape[2]}
	l.shapes = []nn.Shape{l.g.Input}
	l.val[sg.Inputs[0]] = 0
	for i, op := range sg.Operators {
		for _, t := range op.Inputs {
			if t >= 0 {
				l.uses[t] = append(l.uses[t], i)
			}
		}
	}
	for _, t := range sg.Outputs {
		l.uses[t] = append(l.uses[t], -1) // graph outputs count as a use
	}
	for i := range sg.Operators {
		if l.done[i] {
			continue
		}
		if err := l.op(i); err != nil {
			return nil, fmt.Errorf("%w: operator %d (%v): %w", ErrUnsupported, i, sg.Operators[i].Builtin, err)
		}
	}
	for _, t := range sg.Outputs {
		v, ok := l.val[t]
		if !ok {
			return nil, fmt.Errorf("%w: output tensor %q is never computed", ErrUnsupported, sg.Tensors[t].Name)
		}
		l.g.Outputs = append(l.g.Outputs, v)
	}
	g = nn.FuseActivations(&l.g)
	if _, err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return g, nil
}

// lowering is the state of one Graph translation.
type lowering struct {
	m      *Model
	sg     *Subgraph
	g      nn.Graph
	shapes []nn.Shape    // per value
	val    map[int]int   // tensor → value
	uses   map[int][]int // tensor → operators reading it (-1: graph output)
	done   []bool        // operator consumed by a pattern
}

// add appends node n reading inputs, producing tensor t, whose value has
// shape s.
func (l *lowering) add(n nn.Node, s nn.Shape, t int) {
	l.g.Nodes = append(l.g.Nodes, n)
	l.shapes = append(l.shapes, s)
	l.val[t] = len(l.g.Nodes)
}

// input returns the value of operator op's input k.
func (l *lowering) input(op *Operator, k int) (int, nn.Shape, error) {
	if k >= len(op.Inputs) || op.Inputs[k] < 0 {
		return 0, nn.Shape{}, fmt.Errorf("missing input %d", k)
	}
	v, ok := l.val[op.Inputs[k]]
	if !ok {
		return 0, nn.Shape{}, fmt.Errorf("input tensor %q is not computed before use (constant operands are unsupported)", l.sg.Tensors[op.Inputs[k]].Name)
	}
	return v, l.shapes[v], nil
}

// isConst reports whether tensor t holds constant data.
func (l *lowering) isConst(t int) bool {
	if t < 0 {
		return false
	}
	b := l.sg.Tensors[t].Buffer
	return b > 0 && b < len(l.m.Buffers) && len(l.m.Buffers[b]) > 0
}

// constData returns the float32 contents of constant tensor t.
func (l *lowering) constData(t int) ([]float32, error) {
	if !l.isConst(t) {
		return nil, fmt.Errorf("tensor %d is not a constant", t)
	}
	ten := l.sg.Tensors[t]
	if ten.Type != Float32 {
		return nil, fmt.Errorf("tensor %q is %v, want FLOAT32", ten.Name, ten.Type)
	}
	n := Elements(ten.Shape)
	if n < 0 {
		return nil, fmt.Errorf("tensor %q has shape %v", ten.Name, ten.Shape)
	}
	return Float32s(l.m.Buffers[ten.Buffer], n)
}

// shapeOf maps a TFLite activation shape ([N,H,W,C] or [N,K]) to nn's;
// the batch dimension N is dropped: the graph runs one image at a time.
func shapeOf(s []int) (nn.Shape, bool) {
	switch {
	case len(s) == 4:
		return nn.Shape{C: s[3], H: s[1], W: s[2]}, true
	case len(s) == 2:
		return nn.Shape{C: s[1], H: 1, W: 1}, true
	}
	return nn.Shape{}, false
}

// checkOut verifies the declared shape of tensor t against s.
func (l *lowering) checkOut(t int, s nn.Shape) error {
	got, ok := shapeOf(l.sg.Tensors[t].Shape)
	if !ok || got != s {
		return fmt.Errorf("output tensor %q declared %v, computed %v", l.sg.Tensors[t].Name, l.sg.Tensors[t].Shape, s)
	}
	return nil
}

func fusedAct(a Activation) (nn.Act, error) {
	switch a {
	case ActNone:
		return nn.None, nil
	case ActRelu:
		return nn.ReLU, nil
	case ActRelu6:
		return nn.ReLU6, nil
	}
	return 0, fmt.Errorf("fused activation %d unsupported", a)
}

// pads returns TensorFlow's output size and padding (before, after) along
// one axis.
func pads(in, k, stride int, p Padding) (out, before, after int, err error) {
	switch p {
	case Valid:
		if in < k {
			return 0, 0, 0, fmt.Errorf("kernel %d larger than input %d", k, in)
		}
		return (in-k)/stride + 1, 0, 0, nil
	case Same:
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+k-in, 0)
		return out, total / 2, total - total/2, nil
	}
	return 0, 0, 0, fmt.Errorf("padding %d unsupported", p)
}

func (l *lowering) op(i int) error {
	op := &l.sg.Operators[i]
	if len(op.Outputs) != 1 {
		return fmt.Errorf("%d outputs", len(op.Outputs))
	}
	if ok, err := l.pattern(i); ok || err != nil {
		return err
	}
	switch op.Builtin {
	case OpConv2D, OpDepthwiseConv2D:
		return l.conv(op)
	case OpFullyConnected:
		return l.dense(op)
	case OpMaxPool2D, OpAveragePool2D:
		return l.pool(op)
	case OpAdd, OpMul:
		return l.binary(op)
	case OpRelu, OpRelu6, OpLogistic, OpPRelu, OpSoftmax, OpL2Normalization:
		return l.activation(op)
	case OpReshape:
		return l.reshape(op)
	}
	return errors.New("operator unsupported")
}

// pool lowers MAX_POOL_2D and AVERAGE_POOL_2D.
func (l *lowering) pool(op *Operator) error {
	o := op.Options
	out := op.Outputs[0]
	v, s, err := l.input(op, 0)
	if err != nil {
		return err
	}
	if o.FilterH <= 0 || o.FilterW <= 0 || o.StrideH <= 0 || o.StrideW <= 0 {
		return fmt.Errorf("pool options %+v", o)
	}
	oh, pt, pb, err := pads(s.H, o.FilterH, o.StrideH, o.Padding)
	if err != nil {
		return err
	}
	ow, pl, pr, err := pads(s.W, o.FilterW, o.StrideW, o.Padding)
	if err != nil {
		return err
	}
	act, err := fusedAct(o.Activation)
	if err != nil {
		return err
	}
	n := nn.Node{Op: nn.MaxPool, Name: l.sg.Tensors[out].Name, Inputs: []int{v}, Kernel: [2]int{o.FilterH, o.FilterW},
		Stride: [2]int{o.StrideH, o.StrideW}, Pad: [4]int{pt, pl, pb, pr}, Act: act}
	if op.Builtin == OpAveragePool2D {
		n.Op = nn.AvgPool
	}
	os := nn.Shape{C: s.C, H: oh, W: ow}
	if err := l.checkOut(out, os); err != nil {
		return err
	}
	l.add(n, os, out)
	return nil
}

// binary lowers ADD and MUL (same shapes, or MUL by a per-channel scale).
func (l *lowering) binary(op *Operator) error {
	o := op.Options
	out := op.Outputs[0]
	a, sa, err := l.input(op, 0)
	if err != nil {
		return err
	}
	b, sb, err := l.input(op, 1)
	if err != nil {
		return err
	}
	if op.Builtin == OpMul && sa.H*sa.W == 1 && sb.H*sb.W > 1 {
		a, b, sa, sb = b, a, sb, sa // the channel scale goes second
	}
	if sa != sb && !(op.Builtin == OpMul && sb == nn.Shape{C: sa.C, H: 1, W: 1}) {
		return fmt.Errorf("broadcast %v and %v unsupported", sa, sb)
	}
	act, err := fusedAct(o.Activation)
	if err != nil {
		return err
	}
	n := nn.Node{Op: nn.Add, Name: l.sg.Tensors[out].Name, Inputs: []int{a, b}, Act: act}
	if op.Builtin == OpMul {
		n.Op = nn.Mul
	}
	if err := l.checkOut(out, sa); err != nil {
		return err
	}
	l.add(n, sa, out)
	return nil
}

// activation lowers the element-wise and per-channel activations,
// SOFTMAX and L2_NORMALIZATION.
func (l *lowering) activation(op *Operator) error {
	o := op.Options
	out := op.Outputs[0]
	v, s, err := l.input(op, 0)
	if err != nil {
		return err
	}
	n := nn.Node{Op: nn.Activate, Name: l.sg.Tensors[out].Name, Inputs: []int{v}}
	switch op.Builtin {
	case OpRelu:
		n.Act = nn.ReLU
	case OpRelu6:
		n.Act = nn.ReLU6
	case OpLogistic:
		n.Act = nn.Sigmoid
	case OpPRelu:
		if len(op.Inputs) != 2 {
			return errors.New("PRELU needs 2 inputs")
		}
		a, err := l.constData(op.Inputs[1])
		if err != nil {
			return err
		}
		n.Act, n.Slope = nn.PReLU, a
	case OpSoftmax:
		if o.Beta != 1 {
			return fmt.Errorf("softmax beta %v", o.Beta)
		}
		n.Op = nn.Softmax
		if s.H*s.W != 1 {
			n.Op = nn.SoftmaxChannels // TFLite's softmax runs over the last (channel) axis
		}
	case OpL2Normalization:
		n.Op = nn.L2Normalize
	}
	if (n.Op == nn.Softmax || n.Op == nn.L2Normalize) && s.H*s.W != 1 {
		return fmt.Errorf("%v over a %v value (only over channels of a 1x1 value)", op.Builtin, s)
	}
	if err := l.checkOut(out, s); err != nil {
		return err
	}
	l.add(n, s, out)
	return nil
}

// reshape lowers RESHAPE: only a flatten, or a reshape to the same shape.
func (l *lowering) reshape(op *Operator) error {
	out := op.Outputs[0]
	v, s, err := l.input(op, 0)
	if err != nil {
		return err
	}
	sh := l.sg.Tensors[out].Shape
	flat := len(sh) == 2 && sh[1] == s.Len()
	if !flat && l.checkOut(out, s) != nil {
		return fmt.Errorf("reshape %v to %v unsupported", s, sh)
	}
	// A flatten keeps the value (and its C x H x W shape): a following
	// FULLY_CONNECTED reorders its weights for it.
	l.val[out] = v
	return nil
}

func (l *lowering) conv(op *Operator) error {
	o := op.Options
	out := op.Outputs[0]
	if len(op.Inputs) < 2 {
		return fmt.Errorf("%d inputs", len(op.Inputs))
	}
	v, s, err := l.input(op, 0)
	if err != nil {
		return err
	}
	wt := op.Inputs[1]
	if wt < 0 || len(l.sg.Tensors[wt].Shape) != 4 {
		return errors.New("weights must be 4-D")
	}
	ws := l.sg.Tensors[wt].Shape
	dw := op.Builtin == OpDepthwiseConv2D
	oc, kh, kw, ic := ws[0], ws[1], ws[2], ws[3]
	groups := 1
	if dw {
		oc, ic, groups = ws[3], 1, s.C
		if ws[0] != 1 || oc%s.C != 0 || (o.DepthMultiplier != 0 && oc != s.C*o.DepthMultiplier) {
			return fmt.Errorf("depthwise weights %v on %d channels (multiplier %d)", ws, s.C, o.DepthMultiplier)
		}
	} else if ic != s.C {
		return fmt.Errorf("weights %v on %d input channels", ws, s.C)
	}
	if oc <= 0 || kh <= 0 || kw <= 0 || o.StrideH <= 0 || o.StrideW <= 0 || oc > 1<<16 || kh > 64 || kw > 64 || o.StrideH > 64 || o.StrideW > 64 {
		return fmt.Errorf("geometry: weights %v, options %+v", ws, o)
	}
	if o.DilationH > 1 || o.DilationW > 1 {
		return errors.New("dilation unsupported")
	}
	w, err := l.constData(wt)
	if err != nil {
		return err
	}
	n := nn.Node{Op: nn.Conv, Name: l.sg.Tensors[out].Name, Inputs: []int{v}, Kernel: [2]int{kh, kw},
		Stride: [2]int{o.StrideH, o.StrideW}, Groups: groups, OutC: oc, Weight: make([]float32, len(w))}
	// [oc][kh][kw][ic] (depthwise: [1][kh][kw][oc]) → OIHW.
	for c := range oc {
		for i := range ic {
			for y := range kh {
				for x := range kw {
					src := ((c*kh+y)*kw+x)*ic + i
					if dw {
						src = (y*kw+x)*oc + c
					}
					n.Weight[((c*ic+i)*kh+y)*kw+x] = w[src]
				}
			}
		}
	}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		if n.Bias, err = l.constData(op.Inputs[2]); err != nil {
			return err
		}
	}
	oh, pt, pb, err := pads(s.H, kh, o.StrideH, o.Padding)
	if err != nil {
		return err
	}
	ow, pl, pr, err := pads(s.W, kw, o.StrideW, o.Padding)
	if err != nil {
		return err
	}
	n.Pad = [4]int{pt, pl, pb, pr}
	if n.Act, err = fusedAct(o.Activation); err != nil {
		return err
	}
	os := nn.Shape{C: oc, H: oh, W: ow}
	if err := l.checkOut(out, os); err != nil {
		return err
	}
	if int64(oh)*int64(ow)*int64(oc) > 1<<24 || int64(oh)*int64(ow)*int64(kh)*int64(kw)*int64(ic) > 1<<26 {
		return fmt.Errorf("layer too large: %v", os)
	}
	l.add(n, os, out)
	return nil
}

func (l *lowering) dense(op *Operator) error {
	o := op.Options
	out := op.Outputs[0]
	if len(op.Inputs) < 2 {
		return fmt.Errorf("%d inputs", len(op.Inputs))
	}
	v, s, err := l.input(op, 0)
	if err != nil {
		return err
	}
	if op.Inputs[1] < 0 {
		return errors.New("missing weights")
	}
	ws := l.sg.Tensors[op.Inputs[1]].Shape
	if len(ws) != 2 || ws[1] != s.Len() || ws[0] <= 0 {
		return fmt.Errorf("weights %v on %v input", ws, s)
	}
	w, err := l.constData(op.Inputs[1])
	if err != nil {
		return err
	}
	units, k := ws[0], ws[1]
	n := nn.Node{Op: nn.Dense, Name: l.sg.Tensors[out].Name, Inputs: []int{v}, OutC: units, Weight: w}
	if plane := s.H * s.W; plane > 1 {
		// The file's weights read the input flattened in H, W, C order.
		n.Weight = make([]float32, len(w))
		for u := range units {
			for c := range s.C {
				for p := range plane {
					n.Weight[u*k+c*plane+p] = w[u*k+p*s.C+c]
				}
			}
		}
	}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		if n.Bias, err = l.constData(op.Inputs[2]); err != nil {
			return err
		}
	}
	if n.Act, err = fusedAct(o.Activation); err != nil {
		return err
	}
	os := nn.Shape{C: units, H: 1, W: 1}
	if err := l.checkOut(out, os); err != nil {
		return err
	}
	l.add(n, os, out)
	return nil
}
