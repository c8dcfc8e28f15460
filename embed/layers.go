package embed

import "fmt"

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

// applyBiasAct adds bias (per channel, may be nil) and applies act in place
// over rows of c channels.
func applyBiasAct(out []float32, c int, bias []float32, act activation) {
	if bias != nil {
		bias = bias[:c]
	}
	var alpha []float32
	if act.kind == actPReLU2 || act.kind == actPReLU {
		alpha = act.alpha[:c]
	}
	for off := 0; off+c <= len(out); off += c {
		row := out[off : off+c : off+c]
		if bias != nil {
			for j, b := range bias {
				row[j] += b
			}
		}
		switch act.kind {
		case actRelu:
			for j, v := range row {
				if v < 0 {
					row[j] = 0
				}
			}
		case actRelu6:
			for j, v := range row {
				row[j] = min(max(v, 0), 6)
			}
		case actPReLU2:
			for j, v := range row {
				if v < 0 {
					row[j] = alpha[j] * (v + v)
				}
			}
		case actPReLU:
			for j, v := range row {
				if v < 0 {
					row[j] = alpha[j] * v
				}
			}
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
	g   gemmScratch
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
	bp                 []float32 // packed weights
	bias               []float32
	act                activation
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
		gemm(m, l.out.C, l.k, x, l.k, l.bp, out, l.out.C, &ws.g)
	} else {
		if cap(ws.col) < m*l.k {
			ws.col = make([]float32, m*l.k)
		}
		col := ws.col[:m*l.k]
		l.im2col(x, col)
		gemm(m, l.out.C, l.k, col, l.k, l.bp, out, l.out.C, &ws.g)
	}
	applyBiasAct(out[:m*l.out.C], l.out.C, l.bias, l.act)
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
	bias               []float32
	act                activation
}

func (l *dwLayer) describe() string {
	return fmt.Sprintf("dwconv %dx%d/%d %v→%v %v", l.kh, l.kw, l.sh, l.in, l.out, l.act)
}

func (l *dwLayer) outShape() shape3 { return l.out }

func (l *dwLayer) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0]
	C := l.in.C
	for oy := 0; oy < l.out.H; oy++ {
		for ox := 0; ox < l.out.W; ox++ {
			acc := out[(oy*l.out.W+ox)*C : (oy*l.out.W+ox+1)*C : (oy*l.out.W+ox+1)*C]
			clear(acc)
			for ky := 0; ky < l.kh; ky++ {
				iy := oy*l.sh - l.padT + ky*l.dh
				if iy < 0 || iy >= l.in.H {
					continue
				}
				for kx := 0; kx < l.kw; kx++ {
					ix := ox*l.sw - l.padL + kx*l.dw
					if ix < 0 || ix >= l.in.W {
						continue
					}
					src := x[(iy*l.in.W+ix)*C:]
					src = src[:len(acc)]
					w := l.w[(ky*l.kw+kx)*C:]
					w = w[:len(acc)]
					for c, v := range src {
						acc[c] += v * w[c]
					}
				}
			}
		}
	}
	applyBiasAct(out[:l.out.size()], C, l.bias, l.act)
}

// addLayer is the element-wise ADD of two activations (residual connection).
type addLayer struct {
	shape shape3
	act   activation
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
		applyBiasAct(o, l.shape.C, nil, l.act)
	}
}

// actLayer is a standalone activation (RELU, RELU6, PRELU, or the PReLU
// pattern when it does not follow a convolution).
type actLayer struct {
	shape shape3
	act   activation
}

func (l *actLayer) describe() string { return fmt.Sprintf("act %v %v", l.shape, l.act) }

func (l *actLayer) outShape() shape3 { return l.shape }

func (l *actLayer) run(ws *workspace, in [][]float32, out []float32) {
	o := out[:l.shape.size()]
	copy(o, in[0])
	applyBiasAct(o, l.shape.C, nil, l.act)
}
