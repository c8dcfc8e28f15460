package onet

import (
	"errors"
	"fmt"
	"math"

	"github.com/facematch/facematch/internal/gemm"
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

// epilogue is what follows the sums of a convolution or fully connected
// layer, in the form gemm.Mul applies it: the bias, then PReLU
// max(x,0) + slope·min(x,0) when slope is non-nil (RELU is slope 0), then
// the RELU6 clamp when relu6 is set. bias and slope are zero padded to
// gemm.PadLen(channels).
type epilogue struct {
	bias, slope []float32
	relu6       bool
}

// epilogue builds op's epilogue for c output channels from its bias input
// and fused activation, or from alpha, the slopes of a PReLU that follows op
// (see preluAfter).
func (n *Net) epilogue(op tflite.Operator, c int, alpha []float32) (epilogue, error) {
	e := epilogue{bias: make([]float32, gemm.PadLen(c))}
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		b := n.consts[op.Inputs[2]]
		if len(b) != c {
			return e, errors.New("bias size")
		}
		copy(e.bias, b)
	}
	switch op.Options.Activation {
	case tflite.ActRelu6:
		e.relu6 = true
		fallthrough
	case tflite.ActRelu:
		e.slope = make([]float32, len(e.bias))
	}
	if alpha != nil {
		e.slope = make([]float32, len(e.bias))
		copy(e.slope, alpha)
	}
	return e, nil
}

// clamp applies the RELU6 clamp, if any, to y.
func (e *epilogue) clamp(y []float32) {
	if e.relu6 {
		for i, v := range y {
			y[i] = min(v, 6)
		}
	}
}

// conv compiles a CONV_2D writing tensor out, with PReLU slopes alpha when
// a PReLU is fused in. It runs as a matrix product: im2col lays the input
// under the filter at each output pixel out as one row, and gemm.Mul
// multiplies those rows by the filters, packed once here.
func (n *Net) conv(op tflite.Operator, out int, alpha []float32) (step, error) {
	if len(op.Inputs) < 2 {
		return nil, errors.New("want input and filter")
	}
	x, w := op.Inputs[0], op.Inputs[1]
	xs, ws, ys := n.shapes[x], n.shapes[w], n.shapes[out]
	if len(xs) != 4 || len(ws) != 4 || len(ys) != 4 || n.consts[w] == nil || ws[3] != xs[3] {
		return nil, fmt.Errorf("shapes %v * %v", xs, ws)
	}
	if op.Options.DilationW > 1 || op.Options.DilationH > 1 {
		return nil, errors.New("dilation unsupported")
	}
	g := convGeom{ih: xs[1], iw: xs[2], ic: xs[3], kh: ws[1], kw: ws[2]}
	g.sh, g.sw = max(op.Options.StrideH, 1), max(op.Options.StrideW, 1)
	g.oh, g.padT = window(g.ih, g.kh, g.sh, op.Options.Padding)
	g.ow, g.padL = window(g.iw, g.kw, g.sw, op.Options.Padding)
	oc := ws[0]
	if g.oh != ys[1] || g.ow != ys[2] || oc != ys[3] {
		return nil, fmt.Errorf("output %v, computed [%d %d %d]", ys, g.oh, g.ow, oc)
	}
	ep, err := n.epilogue(op, oc, alpha)
	if err != nil {
		return nil, err
	}
	m, k := g.oh*g.ow, g.kh*g.kw*g.ic
	bp := gemm.PackB(n.consts[w], oc, k)
	n.colSize = max(n.colSize, m*k)
	return func(ws *workspace) {
		col, y := ws.col[:m*k], ws.t[out]
		g.im2col(ws.t[x], col)
		gemm.Mul(m, oc, k, col, k, bp, y, oc, ep.bias, ep.slope, &ws.g)
		ep.clamp(y)
	}, nil
}

// convGeom is the geometry of a convolution over one NHWC image.
type convGeom struct {
	ih, iw, ic int // input
	oh, ow     int // output
	kh, kw     int // filter
	sh, sw     int // strides
	padT, padL int // leading padding
}

// im2col writes one row of kh·kw·ic values per output pixel: the input under
// the filter, in the filter's own [kh][kw][ic] order, zero where the filter
// hangs over the edge.
func (g *convGeom) im2col(in, col []float32) {
	run := g.kw * g.ic // one filter row: contiguous in the input
	k := g.kh * run
	for r := range g.oh {
		for c := range g.ow {
			dst := col[(r*g.ow+c)*k : (r*g.ow+c+1)*k]
			x0 := c*g.sw - g.padL
			for i := range g.kh {
				seg := dst[i*run : (i+1)*run]
				yy := r*g.sh + i - g.padT
				switch {
				case yy < 0 || yy >= g.ih:
					clear(seg)
				case x0 >= 0 && x0+g.kw <= g.iw:
					copy(seg, in[(yy*g.iw+x0)*g.ic:])
				default:
					for j := range g.kw {
						px := seg[j*g.ic : (j+1)*g.ic]
						if xx := x0 + j; xx >= 0 && xx < g.iw {
							copy(px, in[(yy*g.iw+xx)*g.ic:])
						} else {
							clear(px)
						}
					}
				}
			}
		}
	}
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
	return func(ws *workspace) {
		in, y := ws.t[x], ws.t[out]
		for r := range oh {
			for c := range ow {
				dst := y[(r*ow+c)*ch : (r*ow+c+1)*ch]
				first := true
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
						src := in[(yy*iw+xx)*ch : (yy*iw+xx+1)*ch]
						if first {
							copy(dst, src)
							first = false
						} else {
							maxInto(dst, src)
						}
					}
				}
				if first { // a window entirely in the padding
					for k := range dst {
						dst[k] = float32(math.Inf(-1))
					}
				}
			}
		}
	}, nil
}

// maxInto sets dst[k] = max(dst[k], src[k]) for k < len(dst).
//
// A plain comparison rather than the builtin max, whose NaN and signed-zero
// rules cost several instructions per element: activations here are finite,
// and a tie between -0 and +0 cannot change a later sum.
func maxInto(dst, src []float32) {
	src = src[:len(dst)]
	for k, v := range src {
		if v > dst[k] {
			dst[k] = v
		}
	}
}

// fullyConnected compiles a FULLY_CONNECTED writing tensor out, with PReLU
// slopes alpha when a PReLU is fused in: a one-row gemm.Mul (ten times
// faster than a dot-product loop for the 1152→256 layer).
func (n *Net) fullyConnected(op tflite.Operator, out int, alpha []float32) (step, error) {
	if len(op.Inputs) < 2 {
		return nil, errors.New("want input and weights")
	}
	x, w := op.Inputs[0], op.Inputs[1]
	ws := n.shapes[w]
	if len(ws) != 2 || n.consts[w] == nil || tflite.Elements(n.shapes[x]) != ws[1] || tflite.Elements(n.shapes[out]) != ws[0] {
		return nil, fmt.Errorf("shapes %v * %v -> %v", n.shapes[x], ws, n.shapes[out])
	}
	units, depth := ws[0], ws[1]
	ep, err := n.epilogue(op, units, alpha)
	if err != nil {
		return nil, err
	}
	bp := gemm.PackB(n.consts[w], units, depth)
	return func(ws *workspace) {
		y := ws.t[out]
		gemm.Mul(1, units, depth, ws.t[x], depth, bp, y, units, ep.bias, ep.slope, &ws.g)
		ep.clamp(y)
	}, nil
}
