package onet

import (
	"errors"
	"fmt"
	"math"

	"github.com/facematch/facematch/internal/tflite"
)

// window computes TensorFlow's output size and leading padding for one
// spatial axis.
func window(in, k, stride int, pad tflite.Padding) (out, before int) {
	if pad == tflite.Valid {
		return (in-k)/stride + 1, 0
	}
	out = (in + stride - 1) / stride
	total := max((out-1)*stride+k-in, 0)
	return out, total / 2
}

func (n *Net) conv(op tflite.Operator, act func(float32) float32) (step, error) {
	if len(op.Inputs) < 2 {
		return nil, errors.New("want input and filter")
	}
	x, w := op.Inputs[0], op.Inputs[1]
	xs, ws, ys := n.shapes[x], n.shapes[w], n.shapes[op.Outputs[0]]
	if len(xs) != 4 || len(ws) != 4 || len(ys) != 4 || n.consts[w] == nil || ws[3] != xs[3] {
		return nil, fmt.Errorf("shapes %v * %v", xs, ws)
	}
	if op.Options.DilationW > 1 || op.Options.DilationH > 1 {
		return nil, errors.New("dilation unsupported")
	}
	oc, kh, kw, ic := ws[0], ws[1], ws[2], ws[3]
	sh, sw := max(op.Options.StrideH, 1), max(op.Options.StrideW, 1)
	oh, padT := window(xs[1], kh, sh, op.Options.Padding)
	ow, padL := window(xs[2], kw, sw, op.Options.Padding)
	if oh != ys[1] || ow != ys[2] || oc != ys[3] {
		return nil, fmt.Errorf("output %v, computed [%d %d %d]", ys, oh, ow, oc)
	}
	bias := make([]float32, oc)
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		b := n.consts[op.Inputs[2]]
		if len(b) != oc {
			return nil, errors.New("bias size")
		}
		copy(bias, b)
	}
	filt := n.consts[w]
	ih, iw := xs[1], xs[2]
	out := op.Outputs[0]
	return func(t [][]float32) {
		in, y := t[x], t[out]
		for r := range oh {
			for c := range ow {
				dst := y[(r*ow+c)*oc : (r*ow+c+1)*oc]
				copy(dst, bias)
				for i := range kh {
					yy := r*sh + i - padT
					if yy < 0 || yy >= ih {
						continue
					}
					for j := range kw {
						xx := c*sw + j - padL
						if xx < 0 || xx >= iw {
							continue
						}
						px := in[(yy*iw+xx)*ic : (yy*iw+xx+1)*ic]
						for o := range dst {
							f := filt[((o*kh+i)*kw+j)*ic : ((o*kh+i)*kw+j+1)*ic]
							var s float32
							for k, v := range px {
								s += v * f[k]
							}
							dst[o] += s
						}
					}
				}
				if act != nil {
					for o, v := range dst {
						dst[o] = act(v)
					}
				}
			}
		}
	}, nil
}

func (n *Net) maxPool(op tflite.Operator) (step, error) {
	x, out := op.Inputs[0], op.Outputs[0]
	xs, ys := n.shapes[x], n.shapes[out]
	if len(xs) != 4 || len(ys) != 4 || xs[3] != ys[3] {
		return nil, fmt.Errorf("shapes %v -> %v", xs, ys)
	}
	o := op.Options
	kh, kw, sh, sw := max(o.FilterH, 1), max(o.FilterW, 1), max(o.StrideH, 1), max(o.StrideW, 1)
	oh, padT := window(xs[1], kh, sh, o.Padding)
	ow, padL := window(xs[2], kw, sw, o.Padding)
	if oh != ys[1] || ow != ys[2] {
		return nil, fmt.Errorf("output %v, computed [%d %d]", ys, oh, ow)
	}
	ih, iw, ch := xs[1], xs[2], xs[3]
	return func(t [][]float32) {
		in, y := t[x], t[out]
		for r := range oh {
			for c := range ow {
				dst := y[(r*ow+c)*ch : (r*ow+c+1)*ch]
				for k := range dst {
					dst[k] = float32(math.Inf(-1))
				}
				for i := range kh {
					yy := r*sh + i - padT
					if yy < 0 || yy >= ih {
						continue // padding never wins a max
					}
					for j := range kw {
						xx := c*sw + j - padL
						if xx < 0 || xx >= iw {
							continue
						}
						for k, v := range in[(yy*iw+xx)*ch : (yy*iw+xx+1)*ch] {
							dst[k] = max(dst[k], v)
						}
					}
				}
			}
		}
	}, nil
}

func (n *Net) fullyConnected(op tflite.Operator, act func(float32) float32) (step, error) {
	if len(op.Inputs) < 2 {
		return nil, errors.New("want input and weights")
	}
	x, w, out := op.Inputs[0], op.Inputs[1], op.Outputs[0]
	ws := n.shapes[w]
	if len(ws) != 2 || n.consts[w] == nil || tflite.Elements(n.shapes[x]) != ws[1] || tflite.Elements(n.shapes[out]) != ws[0] {
		return nil, fmt.Errorf("shapes %v * %v -> %v", n.shapes[x], ws, n.shapes[out])
	}
	units, depth := ws[0], ws[1]
	bias := make([]float32, units)
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		if b := n.consts[op.Inputs[2]]; len(b) == units {
			copy(bias, b)
		} else {
			return nil, errors.New("bias size")
		}
	}
	wt := n.consts[w]
	return func(t [][]float32) {
		in, y := t[x], t[out]
		for u := range units {
			s := bias[u]
			for k, v := range wt[u*depth : (u+1)*depth] {
				s += v * in[k]
			}
			if act != nil {
				s = act(s)
			}
			y[u] = s
		}
	}, nil
}
