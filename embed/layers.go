package embed

import (
	"fmt"

	"github.com/facematch/facematch/internal/gemm"
)

// shape3 is an activation shape for one image: height, width, channels (NHWC
// without the batch dimension).
type shape3 struct{ H, W, C int }

func (s shape3) size() int { return s.H * s.W * s.C }

func (s shape3) String() string { return fmt.Sprintf("%dx%dx%d", s.H, s.W, s.C) }

// Activation kinds applied in a layer's epilogue.
const (
	actNone = iota
	actRelu
	actRelu6
	actPReLU2 // the graph's relu(x) + c·(x-|x|) with per-channel c: x>0 ? x : c·(x+x)
	actPReLU  // builtin PRELU with per-channel alpha: x>0 ? x : alpha·x
)

// activation is a fused activation; alpha has one value per channel for the
// PReLU kinds.
type activation struct {
	kind  int
	alpha []float32
}

func (a activation) String() string {
	switch a.kind {
	case actRelu:
		return "relu"
	case actRelu6:
		return "relu6"
	case actPReLU2, actPReLU:
		return "prelu"
	}
	return "linear"
}

// epilogue is a layer's bias + activation in the form the kernels apply:
// x + bias, then, when slope is non-nil, max(x,0) + slope·min(x,0), then the
// RELU6 clamp when relu6 is set. Slices are zero padded to a multiple of
// gemm.NR.
type epilogue struct {
	bias, slope []float32
	relu6       bool
}

// newEpilogue prepares bias (nil = none) and act for c channels. The
// pattern's relu(x) + a·(x-|x|) becomes slope 2a: for x<0 both are the
// rounding of 2·a·x, so results are bit-identical to the unfused ops.
func newEpilogue(bias []float32, act activation, c int) epilogue {
	n := gemm.PadLen(c)
	e := epilogue{bias: make([]float32, n)}
	copy(e.bias, bias)
	switch act.kind {
	case actRelu:
		e.slope = make([]float32, n)
	case actRelu6:
		e.relu6 = true
	case actPReLU, actPReLU2:
		e.slope = make([]float32, n)
		for i, a := range act.alpha[:c] {
			if act.kind == actPReLU2 {
				a *= 2
			}
			e.slope[i] = a
		}
	}
	return e
}

// apply runs the epilogue over rows of c channels.
func (e *epilogue) apply(out []float32, c int) {
	for off := 0; off+c <= len(out); off += c {
		e.applyRow(out[off : off+c])
	}
}

func (e *epilogue) applyRow(row []float32) {
	gemm.Epilogue(row, e.bias, e.slope)
	if e.relu6 {
		for j, v := range row {
			row[j] = min(max(v, 0), 6)
		}
	}
}

// layer is one fused step of the network. Layers hold only read-only weights
// and are shared by all workers; per-run state lives in the workspace.
type layer interface {
	describe() string
	outShape() shape3
	run(ws *workspace, in [][]float32, out []float32)
}

// workspace is the per-worker scratch memory used by layers.
type workspace struct {
	col []float32 // im2col buffer
	g   gemm.Scratch
}

// samePad returns the output size and the leading padding for TensorFlow's
// SAME rule: out = ceil(in/stride), total padding split with the extra pixel
// after (stride 2 on an even input pads 0 before and 1 after).
func samePad(in, k, stride, dil int) (out, before int) {
	out = (in + stride - 1) / stride
	eff := (k-1)*dil + 1
	total := max((out-1)*stride+eff-in, 0)
	return out, total / 2
}

func validOut(in, k, stride, dil int) int {
	eff := (k-1)*dil + 1
	if in < eff {
		return 0
	}
	return (in-eff)/stride + 1
}

// convLayer is CONV_2D + bias + activation.
type convLayer struct {
	in, out            shape3
	kh, kw, sh, sw     int
	dh, dw, padT, padL int
	k                  int       // kh·kw·in.C
	bp                 []float32 // weights packed by gemm.PackB
	act                activation
	ep                 epilogue
	direct             bool // 1x1, stride 1, no padding: input is already the A matrix
}

func (l *convLayer) describe() string {
	return fmt.Sprintf("conv %dx%d/%d %v→%v %v", l.kh, l.kw, l.sh, l.in, l.out, l.act)
}

func (l *convLayer) outShape() shape3 { return l.out }

func (l *convLayer) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0]
	m := l.out.H * l.out.W
	if l.direct {
		gemm.Mul(m, l.out.C, l.k, x, l.k, l.bp, out, l.out.C, l.ep.bias, l.ep.slope, &ws.g)
	} else {
		if cap(ws.col) < m*l.k {
			ws.col = make([]float32, m*l.k)
		}
		col := ws.col[:m*l.k]
		l.im2col(x, col)
		gemm.Mul(m, l.out.C, l.k, col, l.k, l.bp, out, l.out.C, l.ep.bias, l.ep.slope, &ws.g)
	}
	if l.ep.relu6 {
		for i, v := range out[:m*l.out.C] {
			out[i] = min(max(v, 0), 6)
		}
	}
}

// im2col writes one row of kh·kw·C values (order ky, kx, c — the TFLite weight
// order) per output pixel, zeros where the window leaves the input.
func (l *convLayer) im2col(x, col []float32) {
	C := l.in.C
	row := 0
	for oy := 0; oy < l.out.H; oy++ {
		for ox := 0; ox < l.out.W; ox++ {
			dst := col[row*l.k : (row+1)*l.k]
			row++
			d := 0
			for ky := 0; ky < l.kh; ky++ {
				iy := oy*l.sh - l.padT + ky*l.dh
				for kx := 0; kx < l.kw; kx++ {
					ix := ox*l.sw - l.padL + kx*l.dw
					seg := dst[d : d+C]
					d += C
					if iy < 0 || iy >= l.in.H || ix < 0 || ix >= l.in.W {
						clear(seg)
						continue
					}
					copy(seg, x[(iy*l.in.W+ix)*C:])
				}
			}
		}
	}
}

// dwLayer is DEPTHWISE_CONV_2D (depth multiplier 1) + bias + activation.
type dwLayer struct {
	in, out            shape3
	kh, kw, sh, sw     int
	dh, dw, padT, padL int
	w                  []float32 // [kh][kw][C]
	act                activation
	ep                 epilogue
}

func (l *dwLayer) describe() string {
	return fmt.Sprintf("dwconv %dx%d/%d %v→%v %v", l.kh, l.kw, l.sh, l.in, l.out, l.act)
}

func (l *dwLayer) outShape() shape3 { return l.out }

func (l *dwLayer) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0]
	C := l.in.C
	rowLen := l.out.W * C
	for oy := 0; oy < l.out.H; oy++ {
		orow := out[oy*rowLen : (oy+1)*rowLen]
		clear(orow)
		for ky := 0; ky < l.kh; ky++ {
			iy := oy*l.sh - l.padT + ky*l.dh
			if iy < 0 || iy >= l.in.H {
				continue
			}
			for kx := 0; kx < l.kw; kx++ {
				// Output columns ox whose input column ox·sw + off is inside.
				off := kx*l.dw - l.padL
				lo := 0
				if off < 0 {
					lo = (-off + l.sw - 1) / l.sw
				}
				if l.in.W-1-off < 0 {
					continue
				}
				hi := min((l.in.W-1-off)/l.sw, l.out.W-1)
				if lo > hi {
					continue
				}
				src := x[(iy*l.in.W+lo*l.sw+off)*C:]
				gemm.RowFMA(orow[lo*C:(hi+1)*C], src, l.w[(ky*l.kw+kx)*C:], C, l.sw*C)
			}
		}
		for ox := 0; ox < l.out.W; ox++ {
			l.ep.applyRow(orow[ox*C : (ox+1)*C])
		}
	}
}

// addLayer is the element-wise ADD of two activations (residual connection).
type addLayer struct {
	shape shape3
	act   activation
	ep    epilogue
}

func (l *addLayer) describe() string { return fmt.Sprintf("add %v %v", l.shape, l.act) }

func (l *addLayer) outShape() shape3 { return l.shape }

func (l *addLayer) run(ws *workspace, in [][]float32, out []float32) {
	a := in[0][:l.shape.size()]
	b := in[1][:len(a)]
	o := out[:len(a)]
	for i, v := range a {
		o[i] = v + b[i]
	}
	if l.act.kind != actNone {
		l.ep.apply(o, l.shape.C)
	}
}

// actLayer is a standalone activation (RELU, RELU6, PRELU, or the PReLU
// pattern when it does not follow a convolution).
type actLayer struct {
	shape shape3
	act   activation
	ep    epilogue
}

func (l *actLayer) describe() string { return fmt.Sprintf("act %v %v", l.shape, l.act) }

func (l *actLayer) outShape() shape3 { return l.shape }

func (l *actLayer) run(ws *workspace, in [][]float32, out []float32) {
	o := out[:l.shape.size()]
	copy(o, in[0])
	l.ep.apply(o, l.shape.C)
}
