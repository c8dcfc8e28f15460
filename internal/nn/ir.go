package nn

import (
	"errors"
	"fmt"
)

// ErrGraph is wrapped by every error Validate reports about a malformed
// Graph.
var ErrGraph = errors.New("nn: invalid graph")

// Shape is the shape of one value: channels, height, width.
type Shape struct{ C, H, W int }

// Len is the number of elements of a value of shape s.
func (s Shape) Len() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Op is the operation of a Node.
type Op uint8

// The operations. Unless said otherwise a node reads one value (Inputs[0])
// and applies Act to its result.
const (
	// Conv is a 2-D convolution (cross-correlation, as in PyTorch and
	// TFLite) with Groups groups: Weight is OIHW — OutC x (InC/Groups) x
	// Kernel[0] x Kernel[1] — and Bias is OutC values (nil: zero). Padding
	// pads with zeros. A depthwise convolution is Groups == InC == OutC.
	Conv Op = iota + 1
	// Dense is a fully connected layer on the input flattened in C, H, W
	// order: Weight is OutC x In (row-major), Bias OutC values (nil: zero).
	// Its output has shape OutC x 1 x 1.
	Dense
	// Activate applies only Act (with Slope for PReLU).
	Activate
	// Add adds Inputs[0] and Inputs[1] element-wise (same shape), then Act.
	Add
	// Mul multiplies Inputs[0] by Inputs[1] element-wise; Inputs[1] may have
	// shape C x 1 x 1 and then scales each channel (squeeze-excitation).
	// Then Act.
	Mul
	// MaxPool takes the maximum over Kernel windows moved by Stride; padded
	// positions never win (they count as -Inf).
	MaxPool
	// AvgPool averages over Kernel windows moved by Stride, dividing by the
	// number of positions inside the unpadded input.
	AvgPool
	// GlobalAvgPool averages each channel to one value: output C x 1 x 1.
	GlobalAvgPool
	// Softmax normalises over all elements of the value (use it on a
	// C x 1 x 1 value): exp(v-max) / sum.
	Softmax
	// L2Normalize divides the value by its L2 norm (all elements; a zero
	// vector stays zero).
	L2Normalize
	// SoftmaxChannels normalises over the channels at each position (y, x)
	// separately: out[c,y,x] = exp(v[c,y,x]-m) / Σ_c' exp(v[c',y,x]-m) with
	// m the maximum over c. This is a fully convolutional classifier's
	// per-pixel probability (MTCNN's P-Net); on a C x 1 x 1 value it is
	// Softmax.
	SoftmaxChannels
)

var opNames = [...]string{Conv: "Conv", Dense: "Dense", Activate: "Activate", Add: "Add", Mul: "Mul",
	MaxPool: "MaxPool", AvgPool: "AvgPool", GlobalAvgPool: "GlobalAvgPool", Softmax: "Softmax", L2Normalize: "L2Normalize",
	SoftmaxChannels: "SoftmaxChannels"}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Act is an element-wise activation fused after an operation.
type Act uint8

// The activations.
const (
	None Act = iota
	ReLU
	ReLU6
	// PReLU is x for x >= 0 and Slope[c]*x otherwise, per channel c (a
	// single Slope value applies to every channel).
	PReLU
	Sigmoid
)

// Node is one operation. Fields an Op does not use stay zero.
type Node struct {
	Op     Op
	Name   string // for error messages and debugging (e.g. the source layer name)
	Inputs []int  // values read: 0 is the graph input, i+1 the output of node i; must be < this node's own value

	// Conv, MaxPool, AvgPool.
	Kernel [2]int // height, width
	Stride [2]int // vertical, horizontal; zero means 1
	Pad    [4]int // top, left, bottom, right
	Groups int    // Conv only; zero means 1

	// Conv and Dense.
	OutC   int
	Weight []float32
	Bias   []float32

	Act   Act
	Slope []float32 // PReLU slopes: one per output channel, or one for all
}

// Graph is a network: Nodes in execution order and the values it returns.
type Graph struct {
	Input   Shape
	Nodes   []Node
	Outputs []int // values returned, in order
}

// Validate checks every node of g (input references, weight sizes, kernel
// geometry) and returns the shape of every value (index 0: the input).
func (g *Graph) Validate() ([]Shape, error) {
	if g.Input.C <= 0 || g.Input.H <= 0 || g.Input.W <= 0 {
		return nil, fmt.Errorf("%w: input shape %v", ErrGraph, g.Input)
	}
	shapes := make([]Shape, 1, len(g.Nodes)+1)
	shapes[0] = g.Input
	for i := range g.Nodes {
		s, err := g.Nodes[i].outShape(i+1, shapes)
		if err != nil {
			return nil, fmt.Errorf("%w: node %d (%s %q): %v", ErrGraph, i, g.Nodes[i].Op, g.Nodes[i].Name, err)
		}
		shapes = append(shapes, s)
	}
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("%w: no outputs", ErrGraph)
	}
	for _, o := range g.Outputs {
		if o < 0 || o >= len(shapes) {
			return nil, fmt.Errorf("%w: output value %d does not exist", ErrGraph, o)
		}
	}
	return shapes, nil
}

// stride returns the node's strides with zero meaning 1.
func (n *Node) stride() (sy, sx int) {
	sy, sx = n.Stride[0], n.Stride[1]
	if sy == 0 {
		sy = 1
	}
	if sx == 0 {
		sx = 1
	}
	return sy, sx
}

func (n *Node) groups() int {
	if n.Groups == 0 {
		return 1
	}
	return n.Groups
}

func (n *Node) outShape(self int, shapes []Shape) (Shape, error) {
	want := 1
	if n.Op == Add || n.Op == Mul {
		want = 2
	}
	if len(n.Inputs) != want {
		return Shape{}, fmt.Errorf("%d inputs, want %d", len(n.Inputs), want)
	}
	for _, v := range n.Inputs {
		if v < 0 || v >= self {
			return Shape{}, fmt.Errorf("input value %d is not computed before value %d", v, self)
		}
	}
	in := shapes[n.Inputs[0]]
	var out Shape
	switch n.Op {
	case Conv, MaxPool, AvgPool:
		kh, kw := n.Kernel[0], n.Kernel[1]
		sy, sx := n.stride()
		if kh <= 0 || kw <= 0 || sy <= 0 || sx <= 0 || n.Pad[0] < 0 || n.Pad[1] < 0 || n.Pad[2] < 0 || n.Pad[3] < 0 {
			return Shape{}, fmt.Errorf("kernel %v, stride %v, pad %v", n.Kernel, n.Stride, n.Pad)
		}
		ph, pw := in.H+n.Pad[0]+n.Pad[2], in.W+n.Pad[1]+n.Pad[3]
		if ph < kh || pw < kw {
			return Shape{}, fmt.Errorf("kernel %v larger than padded input %dx%d", n.Kernel, ph, pw)
		}
		out = Shape{C: in.C, H: (ph-kh)/sy + 1, W: (pw-kw)/sx + 1}
		if n.Op == Conv {
			g := n.groups()
			if g <= 0 || in.C%g != 0 || n.OutC <= 0 || n.OutC%g != 0 {
				return Shape{}, fmt.Errorf("groups %d do not divide input channels %d and OutC %d", g, in.C, n.OutC)
			}
			out.C = n.OutC
			if w := n.OutC * (in.C / g) * kh * kw; len(n.Weight) != w {
				return Shape{}, fmt.Errorf("weight has %d values, want %d", len(n.Weight), w)
			}
		}
	case Dense:
		if n.OutC <= 0 || len(n.Weight) != n.OutC*in.Len() {
			return Shape{}, fmt.Errorf("weight has %d values, want OutC %d x %d inputs", len(n.Weight), n.OutC, in.Len())
		}
		out = Shape{C: n.OutC, H: 1, W: 1}
	case Activate, Softmax, L2Normalize, SoftmaxChannels:
		out = in
	case Add, Mul:
		b := shapes[n.Inputs[1]]
		if b != in && !(n.Op == Mul && b == Shape{C: in.C, H: 1, W: 1}) {
			return Shape{}, fmt.Errorf("shapes %v and %v do not fit", in, b)
		}
		out = in
	case GlobalAvgPool:
		out = Shape{C: in.C, H: 1, W: 1}
	default:
		return Shape{}, fmt.Errorf("unknown op %d", n.Op)
	}
	if (n.Op == Conv || n.Op == Dense) && n.Bias != nil && len(n.Bias) != n.OutC {
		return Shape{}, fmt.Errorf("bias has %d values, want %d", len(n.Bias), n.OutC)
	}
	switch n.Act {
	case None, ReLU, ReLU6, Sigmoid:
		if n.Slope != nil {
			return Shape{}, fmt.Errorf("slopes given for activation %d", n.Act)
		}
	case PReLU:
		if len(n.Slope) != 1 && len(n.Slope) != out.C {
			return Shape{}, fmt.Errorf("%d PReLU slopes for %d channels", len(n.Slope), out.C)
		}
	default:
		return Shape{}, fmt.Errorf("unknown activation %d", n.Act)
	}
	return out, nil
}

// FoldBatchNorm folds a batch normalisation that follows a Conv or Dense node
// (y = gamma*(x-mean)/sqrt(variance+eps) + beta, per output channel) into
// the node's Weight and Bias, which it replaces with new slices.
func FoldBatchNorm(n *Node, gamma, beta, mean, variance []float32, eps float64) error {
	c := n.OutC
	if n.Op != Conv && n.Op != Dense {
		return fmt.Errorf("%w: batch norm after %s %q", ErrGraph, n.Op, n.Name)
	}
	if len(gamma) != c || len(beta) != c || len(mean) != c || len(variance) != c || c == 0 || len(n.Weight)%c != 0 {
		return fmt.Errorf("%w: batch norm of %q: %d channels, parameters %d/%d/%d/%d", ErrGraph, n.Name, c, len(gamma), len(beta), len(mean), len(variance))
	}
	per := len(n.Weight) / c
	w := make([]float32, len(n.Weight))
	b := make([]float32, c)
	for o := range c {
		s := float64(gamma[o]) / sqrt(float64(variance[o])+eps)
		for k := range per {
			w[o*per+k] = float32(float64(n.Weight[o*per+k]) * s)
		}
		var bias float64
		if n.Bias != nil {
			bias = float64(n.Bias[o])
		}
		b[o] = float32((bias-float64(mean[o]))*s + float64(beta[o]))
	}
	n.Weight, n.Bias = w, b
	return nil
}
