package nn

import (
	"math"

	"github.com/facematch/facematch/internal/gemm"
)

// The runtime keeps every value in H, W, C order (channels interleaved, as
// images and TFLite tensors are): a convolution then reads its input as the
// rows of an im2col matrix and writes its output as one GEMM, with the
// weights packed once by gemm.PackB. Run converts at the edges.

// workspace is one worker's scratch memory: the im2col buffer and the GEMM
// edge buffers. Steps use it one at a time.
type workspace struct {
	col []float32
	g   gemm.Scratch
}

// kernel is one compiled node: read-only weights shared by every worker.
type kernel interface {
	// run computes the node's output into out from its inputs (H, W, C).
	run(ws *workspace, in [][]float32, out []float32)
	// colSize is the im2col buffer the kernel needs.
	colSize() int
}

// epilogue is an activation in the form gemm applies it: x + bias, then
// max(x,0) + slope·min(x,0) when slope is non-nil (ReLU: zero slope), then
// the ReLU6 clamp or the sigmoid. bias and slope are zero padded to
// gemm.PadLen(c).
type epilogue struct {
	bias, slope []float32
	relu6       bool
	sigmoid     bool
}

func newEpilogue(n *Node, bias []float32, c int) epilogue {
	e := epilogue{bias: make([]float32, gemm.PadLen(c))}
	copy(e.bias, bias)
	switch n.Act {
	case ReLU:
		e.slope = make([]float32, len(e.bias))
	case ReLU6:
		e.slope = make([]float32, len(e.bias))
		e.relu6 = true
	case PReLU:
		e.slope = make([]float32, len(e.bias))
		for i := range c {
			if len(n.Slope) == 1 {
				e.slope[i] = n.Slope[0]
			} else {
				e.slope[i] = n.Slope[i]
			}
		}
	case Sigmoid:
		e.sigmoid = true
	}
	return e
}

// linear reports whether the epilogue does nothing.
func (e *epilogue) linear() bool {
	if e.slope != nil || e.relu6 || e.sigmoid {
		return false
	}
	for _, b := range e.bias {
		if b != 0 {
			return false
		}
	}
	return true
}

// finish applies what gemm's epilogue does not: the ReLU6 clamp and the
// sigmoid.
func (e *epilogue) finish(y []float32) {
	switch {
	case e.relu6:
		for i, v := range y {
			y[i] = min(v, 6)
		}
	case e.sigmoid:
		for i, v := range y {
			y[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	}
}

// apply runs the whole epilogue over pixels of c channels.
func (e *epilogue) apply(y []float32, c int) {
	if e.linear() {
		return
	}
	for off := 0; off+c <= len(y); off += c {
		gemm.Epilogue(y[off:off+c], e.bias, e.slope)
	}
	e.finish(y)
}

// window is the geometry of a sliding window over an H, W, C value.
type window struct {
	in, out    Shape
	kh, kw     int
	sy, sx     int
	padT, padL int
}

func newWindow(n *Node, in, out Shape) window {
	sy, sx := n.stride()
	return window{in: in, out: out, kh: n.Kernel[0], kw: n.Kernel[1], sy: sy, sx: sx, padT: n.Pad[0], padL: n.Pad[1]}
}

// convKernel is a convolution with groups run as one GEMM per group over
// im2col rows (order ky, kx, channel of the group).
type convKernel struct {
	window
	groups   int
	icg, ocg int
	k        int         // kh·kw·icg
	bp       [][]float32 // per group, packed by gemm.PackB
	ep       []epilogue  // per group
	direct   bool        // 1x1, stride 1, no padding, one group: the input is the A matrix
	fin      epilogue    // ReLU6 / sigmoid over the whole output
}

func newConv(n *Node, in, out Shape) kernel {
	g := n.groups()
	w := newWindow(n, in, out)
	icg, ocg := in.C/g, out.C/g
	if g == in.C && g == out.C && g > 1 {
		return newDepthwise(n, w)
	}
	k := w.kh * w.kw * icg
	c := &convKernel{window: w, groups: g, icg: icg, ocg: ocg, k: k}
	c.direct = g == 1 && w.kh == 1 && w.kw == 1 && w.sy == 1 && w.sx == 1 && n.Pad == [4]int{}
	full := newEpilogue(n, n.Bias, out.C)
	c.fin = epilogue{relu6: full.relu6, sigmoid: full.sigmoid}
	for grp := range g {
		// OIHW → rows of (ky, kx, ic) per output channel.
		wt := make([]float32, ocg*k)
		for o := range ocg {
			for ic := range icg {
				for ky := range w.kh {
					for kx := range w.kw {
						wt[o*k+(ky*w.kw+kx)*icg+ic] = n.Weight[(((grp*ocg+o)*icg+ic)*w.kh+ky)*w.kw+kx]
					}
				}
			}
		}
		c.bp = append(c.bp, gemm.PackB(wt, ocg, k))
		e := epilogue{bias: make([]float32, gemm.PadLen(ocg))}
		copy(e.bias, full.bias[grp*ocg:(grp+1)*ocg])
		if full.slope != nil {
			e.slope = make([]float32, len(e.bias))
			copy(e.slope, full.slope[grp*ocg:(grp+1)*ocg])
		}
		c.ep = append(c.ep, e)
	}
	return c
}

func (c *convKernel) colSize() int {
	if c.direct {
		return 0
	}
	return c.out.H * c.out.W * c.k
}

func (c *convKernel) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0]
	m := c.out.H * c.out.W
	for grp := range c.groups {
		a := x
		if !c.direct {
			a = ws.col[:m*c.k]
			c.im2col(x, a, grp*c.icg)
		}
		gemm.Mul(m, c.ocg, c.k, a, c.k, c.bp[grp], out[grp*c.ocg:], c.out.C, c.ep[grp].bias, c.ep[grp].slope, &ws.g)
	}
	c.fin.finish(out[:m*c.out.C])
}

// im2col writes, per output pixel, the kh·kw·icg input values under the
// window for channels c0 … c0+icg-1, zero where the window leaves the input.
// With one group a window row is one contiguous run of the input.
func (c *convKernel) im2col(x, col []float32, c0 int) {
	C, icg := c.in.C, c.icg
	run := c.kw * icg
	d := 0
	for oy := range c.out.H {
		for ox := range c.out.W {
			ix0 := ox*c.sx - c.padL
			for ky := range c.kh {
				iy := oy*c.sy - c.padT + ky
				seg := col[d : d+run]
				d += run
				if iy < 0 || iy >= c.in.H {
					clear(seg)
					continue
				}
				if icg == C {
					lo, hi := max(-ix0, 0), min(c.kw, c.in.W-ix0) // kx inside the input
					if lo >= hi {
						clear(seg)
						continue
					}
					clear(seg[:lo*C])
					copy(seg[lo*C:hi*C], x[(iy*c.in.W+ix0+lo)*C:])
					clear(seg[hi*C:])
					continue
				}
				for kx := range c.kw {
					ix := ix0 + kx
					s := seg[kx*icg : (kx+1)*icg]
					if ix < 0 || ix >= c.in.W {
						clear(s)
						continue
					}
					copy(s, x[(iy*c.in.W+ix)*C+c0:])
				}
			}
		}
	}
}

// depthwiseKernel is a convolution with one input and one output channel
// per group, run tap by tap over output rows with gemm.RowFMA.
type depthwiseKernel struct {
	window
	w  []float32 // [ky][kx][c]
	ep epilogue
}

func newDepthwise(n *Node, w window) kernel {
	C := w.in.C
	d := &depthwiseKernel{window: w, w: make([]float32, w.kh*w.kw*C), ep: newEpilogue(n, n.Bias, C)}
	for c := range C {
		for t := range w.kh * w.kw {
			d.w[t*C+c] = n.Weight[c*w.kh*w.kw+t]
		}
	}
	return d
}

func (d *depthwiseKernel) colSize() int { return 0 }

func (d *depthwiseKernel) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0]
	C := d.in.C
	rowLen := d.out.W * C
	for oy := range d.out.H {
		orow := out[oy*rowLen : (oy+1)*rowLen]
		clear(orow)
		for ky := range d.kh {
			iy := oy*d.sy - d.padT + ky
			if iy < 0 || iy >= d.in.H {
				continue
			}
			for kx := range d.kw {
				// Output columns ox whose input column ox·sx + off is inside.
				off := kx - d.padL
				if d.in.W-1-off < 0 {
					continue
				}
				lo := 0
				if off < 0 {
					lo = (-off + d.sx - 1) / d.sx
				}
				hi := min((d.in.W-1-off)/d.sx, d.out.W-1)
				if lo > hi {
					continue
				}
				src := x[(iy*d.in.W+lo*d.sx+off)*C:]
				gemm.RowFMA(orow[lo*C:(hi+1)*C], src, d.w[(ky*d.kw+kx)*C:], C, d.sx*C)
			}
		}
		for ox := range d.out.W {
			gemm.Epilogue(orow[ox*C:(ox+1)*C], d.ep.bias, d.ep.slope)
		}
		d.ep.finish(orow)
	}
}

// denseKernel is a fully connected layer: one GEMM row. The weights, given
// for the input flattened in C, H, W order, are reordered to H, W, C.
type denseKernel struct {
	n, k int
	bp   []float32
	ep   epilogue
}

func newDense(n *Node, in Shape) kernel {
	k := in.Len()
	wt := n.Weight
	if in.H*in.W > 1 {
		wt = make([]float32, len(n.Weight))
		plane := in.H * in.W
		for o := range n.OutC {
			for c := range in.C {
				for p := range plane {
					wt[o*k+p*in.C+c] = n.Weight[o*k+c*plane+p]
				}
			}
		}
	}
	return &denseKernel{n: n.OutC, k: k, bp: gemm.PackB(wt, n.OutC, k), ep: newEpilogue(n, n.Bias, n.OutC)}
}

func (d *denseKernel) colSize() int { return 0 }

func (d *denseKernel) run(ws *workspace, in [][]float32, out []float32) {
	gemm.Mul(1, d.n, d.k, in[0], d.k, d.bp, out, d.n, d.ep.bias, d.ep.slope, &ws.g)
	d.ep.finish(out[:d.n])
}

// eltwiseKernel is Activate, Add and Mul (with the channel broadcast).
type eltwiseKernel struct {
	op        Op
	c         int
	broadcast bool // Mul by a C x 1 x 1 value
	ep        epilogue
}

func (e *eltwiseKernel) colSize() int { return 0 }

func (e *eltwiseKernel) run(ws *workspace, in [][]float32, out []float32) {
	a := in[0][:len(out)]
	switch e.op {
	case Activate:
		copy(out, a)
	case Add:
		b := in[1][:len(a)]
		for i, v := range a {
			out[i] = v + b[i]
		}
	case Mul:
		if e.broadcast {
			s := in[1][:e.c]
			for off := 0; off < len(a); off += e.c {
				row, o := a[off:off+e.c], out[off:off+e.c]
				for j, v := range row {
					o[j] = v * s[j]
				}
			}
		} else {
			b := in[1][:len(a)]
			for i, v := range a {
				out[i] = v * b[i]
			}
		}
	}
	e.ep.apply(out, e.c)
}

// poolKernel is MaxPool, AvgPool and GlobalAvgPool.
type poolKernel struct {
	window
	op Op
	ep epilogue
}

func (p *poolKernel) colSize() int { return 0 }

func (p *poolKernel) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0]
	C := p.in.C
	if p.op == GlobalAvgPool {
		plane := p.in.H * p.in.W
		for c := range C {
			var acc float64
			for i := range plane {
				acc += float64(x[i*C+c])
			}
			out[c] = float32(acc / float64(plane))
		}
		p.ep.apply(out[:C], C)
		return
	}
	for oy := range p.out.H {
		y0 := max(oy*p.sy-p.padT, 0)
		y1 := min(oy*p.sy-p.padT+p.kh, p.in.H)
		for ox := range p.out.W {
			x0 := max(ox*p.sx-p.padL, 0)
			x1 := min(ox*p.sx-p.padL+p.kw, p.in.W)
			o := out[(oy*p.out.W+ox)*C : (oy*p.out.W+ox+1)*C]
			if p.op == MaxPool {
				first := true
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						src := x[(iy*p.in.W+ix)*C : (iy*p.in.W+ix+1)*C]
						if first {
							copy(o, src)
							first = false
						} else {
							maxInto(o, src)
						}
					}
				}
				if first { // a window entirely in the padding
					for c := range o {
						o[c] = float32(math.Inf(-1))
					}
				}
				continue
			}
			clear(o)
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					src := x[(iy*p.in.W+ix)*C : (iy*p.in.W+ix+1)*C]
					for c, v := range src {
						o[c] += v
					}
				}
			}
			cnt := float32(max((y1-y0)*(x1-x0), 1))
			for c := range o {
				o[c] /= cnt
			}
		}
	}
	p.ep.apply(out[:p.out.Len()], C)
}

// maxInto sets dst[k] = max(dst[k], src[k]) for k < len(dst). It uses the
// builtin max, which compiles without a branch: a plain comparison was
// cheaper on constant test inputs but mispredicted on photos, where it took
// 38 % of Detect's time on a 640x480 selfie (BenchmarkDetectSelfie: about
// 14.5 → 12 ms). The two differ only for NaN and for +0 against −0.
func maxInto(dst, src []float32) {
	src = src[:len(dst)]
	for k, v := range src {
		dst[k] = max(dst[k], v)
	}
}

// normKernel is Softmax and L2Normalize over the whole value.
type normKernel struct {
	op Op
	c  int
	ep epilogue
}

func (k *normKernel) colSize() int { return 0 }

func (k *normKernel) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0][:len(out)]
	if k.op == Softmax {
		softmax32(out, x)
	} else {
		Normalize(out, x)
	}
	k.ep.apply(out, k.c)
}

// channelSoftmaxKernel is SoftmaxChannels: a softmax over the c
// interleaved channels of each pixel.
type channelSoftmaxKernel struct {
	c  int
	ep epilogue
}

func (k *channelSoftmaxKernel) colSize() int { return 0 }

func (k *channelSoftmaxKernel) run(ws *workspace, in [][]float32, out []float32) {
	x := in[0][:len(out)]
	for off := 0; off+k.c <= len(x); off += k.c {
		softmax32(out[off:off+k.c], x[off:off+k.c])
	}
	k.ep.apply(out, k.c)
}

// softmax32 writes the softmax of x into dst in float32 steps, in the order
// a TFLite export spells softmax (max, subtract, exp, sum, divide), so that
// a decomposed softmax loads to the same bits.
func softmax32(dst, x []float32) {
	dst = dst[:len(x)]
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		dst[i] = e
		sum += e
	}
	for i := range dst {
		dst[i] /= sum
	}
}

// Normalize writes x/‖x‖ into dst, accumulating the norm in float64; a
// zero vector stays zero. It is the L2Normalize op's kernel, exported for
// the networks' post-processing (embed's flip average).
func Normalize(dst, x []float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	if ss == 0 {
		clear(dst[:len(x)])
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i, v := range x {
		dst[i] = float32(float64(v) * inv)
	}
}

// newKernel compiles node n, whose input shapes are in and output shape out.
func newKernel(n *Node, in []Shape, out Shape) kernel {
	switch n.Op {
	case Conv:
		return newConv(n, in[0], out)
	case Dense:
		return newDense(n, in[0])
	case Activate, Add, Mul:
		return &eltwiseKernel{op: n.Op, c: out.C, broadcast: n.Op == Mul && in[1] != in[0], ep: newEpilogue(n, nil, out.C)}
	case MaxPool, AvgPool, GlobalAvgPool:
		return &poolKernel{window: newWindow(n, in[0], out), op: n.Op, ep: newEpilogue(n, nil, out.C)}
	case SoftmaxChannels:
		return &channelSoftmaxKernel{c: out.C, ep: newEpilogue(n, nil, out.C)}
	default: // Softmax, L2Normalize (Validate rejects anything else)
		return &normKernel{op: n.Op, c: out.C, ep: newEpilogue(n, nil, out.C)}
	}
}
