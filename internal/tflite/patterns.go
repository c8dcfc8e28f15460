package tflite

import (
	"fmt"
	"slices"

	"github.com/facematch/facematch/internal/nn"
)

// match is a group of operators that together compute one nn operation on
// tensor x.
type match struct {
	ops   []int // operator indices
	out   int   // tensor holding the result
	op    nn.Op // nn.Activate (with act, slope), nn.Softmax or nn.SoftmaxChannels
	act   nn.Act
	slope []float32
}

// pattern recognises, at operator i, the first operator of a decomposed
// PReLU or softmax on i's first input, and emits the one node it stands for
// (a softmax over the channels of a spatial value: nn.SoftmaxChannels).
func (l *lowering) pattern(i int) (bool, error) {
	op := &l.sg.Operators[i]
	if len(op.Inputs) == 0 || op.Inputs[0] < 0 {
		return false, nil
	}
	x := op.Inputs[0]
	v, ok := l.val[x]
	if !ok {
		return false, nil
	}
	for _, try := range []func(int) (match, bool){l.preluAbs, l.preluNeg, l.softmax} {
		m, ok := try(x)
		if !ok || !slices.Contains(m.ops, i) || slices.ContainsFunc(m.ops, func(k int) bool { return l.done[k] }) {
			continue
		}
		s := l.shapes[v]
		if err := l.checkOut(m.out, s); err != nil {
			return true, err
		}
		if m.op == nn.Softmax && s.H*s.W != 1 {
			return true, fmt.Errorf("softmax over a %v value", s)
		}
		for _, k := range m.ops {
			l.done[k] = true
		}
		l.add(nn.Node{Op: m.op, Name: l.sg.Tensors[m.out].Name, Inputs: []int{v}, Act: m.act, Slope: m.slope}, s, m.out)
		return true, nil
	}
	return false, nil
}

// single returns the one output of operator k if exactly one operator reads
// it (and it is not a graph output).
func (l *lowering) single(k int) (int, bool) {
	o := l.sg.Operators[k].Outputs
	if len(o) != 1 || len(l.uses[o[0]]) != 1 || l.uses[o[0]][0] < 0 {
		return 0, false
	}
	return o[0], true
}

// next returns the operator reading the single-use output of operator k.
func (l *lowering) next(k int) (int, int, bool) {
	t, ok := l.single(k)
	if !ok {
		return 0, 0, false
	}
	return l.uses[t][0], t, true
}

// is reports whether operator k is code without fused activation applied to
// exactly the tensors in (in either order for two).
func (l *lowering) is(k int, code Builtin, in ...int) bool {
	o := &l.sg.Operators[k]
	if o.Builtin != code || o.Options.Activation != ActNone || len(o.Outputs) != 1 || len(o.Inputs) != len(in) {
		return false
	}
	if len(in) == 2 && o.Inputs[0] == in[1] && o.Inputs[1] == in[0] && code != OpSub && code != OpDiv {
		return true
	}
	return slices.Equal(o.Inputs, in)
}

// otherInput returns the input of two-input operator k that is not t.
func (l *lowering) otherInput(k, t int) int {
	in := l.sg.Operators[k].Inputs
	if len(in) != 2 {
		return -1
	}
	if in[0] == t {
		return in[1]
	}
	return in[0]
}

// usersBy returns, for each code, the one operator with that code reading x;
// ok only if x has exactly those readers.
func (l *lowering) usersBy(x int, codes ...Builtin) ([]int, bool) {
	u := l.uses[x]
	if len(u) != len(codes) {
		return nil, false
	}
	res := make([]int, len(codes))
	for i, c := range codes {
		res[i] = -1
		for _, k := range u {
			if k >= 0 && l.sg.Operators[k].Builtin == c && !slices.Contains(res, k) {
				res[i] = k
				break
			}
		}
		if res[i] < 0 {
			return nil, false
		}
	}
	return res, true
}

// preluAbs matches relu(x) + c·(x−|x|): RELU, ABS, SUB, MUL, ADD. For x<0
// it is c·(2x) and the slope is 2c (exact: doubling is).
func (l *lowering) preluAbs(x int) (match, bool) {
	u, ok := l.usersBy(x, OpRelu, OpAbs, OpSub)
	if !ok {
		return match{}, false
	}
	relu, abs, sub := u[0], u[1], u[2]
	pos, ok1 := l.single(relu)
	absOut, ok2 := l.single(abs)
	mul, diff, ok3 := l.next(sub)
	if !ok1 || !ok2 || !ok3 || !l.is(relu, OpRelu, x) || !l.is(abs, OpAbs, x) || !l.is(sub, OpSub, x, absOut) {
		return match{}, false
	}
	coef := l.otherInput(mul, diff)
	add, prod, ok := l.next(mul)
	if !ok || !l.is(mul, OpMul, coef, diff) || !l.isConst(coef) || !l.is(add, OpAdd, pos, prod) || l.uses[pos][0] != add {
		return match{}, false
	}
	c, err := l.constData(coef)
	if err != nil {
		return match{}, false
	}
	slope := make([]float32, len(c))
	for i, v := range c {
		slope[i] = 2 * v
	}
	return match{ops: []int{relu, abs, sub, mul, add}, out: l.sg.Operators[add].Outputs[0], op: nn.Activate, act: nn.PReLU, slope: slope}, true
}

// preluNeg matches relu(x) + a·(−relu(−x)): RELU, NEG, RELU, NEG, MUL, ADD.
// −relu(−x) is min(x,0) up to the sign of zero, and one term is always
// zero, so it equals max(x,0) + a·min(x,0) bit for bit.
func (l *lowering) preluNeg(x int) (match, bool) {
	u, ok := l.usersBy(x, OpRelu, OpNeg)
	if !ok {
		return match{}, false
	}
	relu, neg := u[0], u[1]
	pos, ok1 := l.single(relu)
	relu2, negX, ok2 := l.next(neg)
	if !ok1 || !ok2 || !l.is(relu, OpRelu, x) || !l.is(neg, OpNeg, x) || !l.is(relu2, OpRelu, negX) {
		return match{}, false
	}
	neg2, r2, ok := l.next(relu2)
	if !ok || !l.is(neg2, OpNeg, r2) {
		return match{}, false
	}
	mul, low, ok := l.next(neg2)
	if !ok {
		return match{}, false
	}
	a := l.otherInput(mul, low)
	add, prod, ok := l.next(mul)
	if !ok || !l.is(mul, OpMul, a, low) || !l.isConst(a) || !l.is(add, OpAdd, pos, prod) || l.uses[pos][0] != add {
		return match{}, false
	}
	slope, err := l.constData(a)
	if err != nil {
		return match{}, false
	}
	return match{ops: []int{relu, neg, relu2, neg2, mul, add}, out: l.sg.Operators[add].Outputs[0], op: nn.Activate, act: nn.PReLU, slope: slope}, true
}

// softmax matches exp(x−max x) / Σ exp(x−max x) over the last axis:
// REDUCE_MAX, SUB, EXP, SUM, DIV.
func (l *lowering) softmax(x int) (match, bool) {
	u, ok := l.usersBy(x, OpReduceMax, OpSub)
	if !ok {
		return match{}, false
	}
	rmax, sub := u[0], u[1]
	if !l.lastAxis(rmax) {
		return match{}, false
	}
	next, mx, ok := l.next(rmax)
	if !ok || next != sub || !l.is(sub, OpSub, x, mx) {
		return match{}, false
	}
	exp, d, ok := l.next(sub)
	if !ok || !l.is(exp, OpExp, d) || len(l.sg.Operators[exp].Outputs) != 1 {
		return match{}, false
	}
	e := l.sg.Operators[exp].Outputs[0]
	eu, ok := l.usersBy(e, OpSum, OpDiv)
	if !ok {
		return match{}, false
	}
	sum, div := eu[0], eu[1]
	next, s, ok := l.next(sum)
	if !ok || next != div || !l.lastAxis(sum) || !l.is(div, OpDiv, e, s) {
		return match{}, false
	}
	op := nn.Softmax
	if len(l.sg.Tensors[x].Shape) == 4 {
		op = nn.SoftmaxChannels // per pixel over the channels of [1,H,W,C]
	}
	return match{ops: []int{rmax, sub, exp, sum, div}, out: l.sg.Operators[div].Outputs[0], op: op}, true
}

// lastAxis reports whether reduction operator k reduces a [1,N] tensor, or
// a [1,H,W,C] one (keeping its dimensions), over its last axis.
func (l *lowering) lastAxis(k int) bool {
	in := l.sg.Operators[k].Inputs
	if len(in) != 2 || !l.isConst(in[1]) {
		return false
	}
	rank := len(l.sg.Tensors[in[0]].Shape)
	if rank != 2 && rank != 4 {
		return false
	}
	if rank == 4 {
		out := l.sg.Operators[k].Outputs
		if len(out) != 1 || len(l.sg.Tensors[out[0]].Shape) != 4 || l.sg.Tensors[out[0]].Shape[3] != 1 {
			return false
		}
	}
	ax, err := Int32s(l.m.Buffers[l.sg.Tensors[in[1]].Buffer])
	return err == nil && len(ax) == 1 && (int(ax[0]) == rank-1 || ax[0] == -1)
}
