package nn

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// MaxWorkers caps CompileOptions.Workers.
const MaxWorkers = 1024

var (
	// ErrInput is returned by Run and RunHWC when the input, or a
	// destination buffer, does not have the size the Graph needs.
	ErrInput = errors.New("nn: input or output buffer of the wrong size")
	// ErrInternal wraps a failure inside the runtime (a Gorgonia error or a
	// recovered panic); it indicates a bug, not bad input.
	ErrInternal = errors.New("nn: internal error")
)

// CompileOptions configures Compile. The zero value (or nil) gives the
// defaults.
type CompileOptions struct {
	// Workers is how many forward passes may run at the same time: each
	// worker is one Gorgonia graph and tape machine with its own buffers.
	// 0 (or less) means runtime.GOMAXPROCS(0); values above MaxWorkers are
	// capped. Workers are built on first use.
	Workers int
}

// Net is a compiled Graph. It is safe for concurrent use: each call borrows
// one of up to CompileOptions.Workers workers.
type Net struct {
	shapes  []Shape // per value
	kernels []kernel
	inputs  [][]int // per node: the values it reads
	outputs []int
	stages  []stage
	lastUse []int // per value: the last node reading it; len(kernels) for outputs, -1 if unread
	colSize int

	idle    chan *worker
	mu      sync.Mutex
	created int
	max     int
}

// stage is a run of nodes [lo, hi) executed by one Gorgonia op.
type stage struct{ lo, hi int }

// Compile validates g and compiles it for the runtime. The Net keeps its
// own (repacked) copy of the weights: g may be changed or dropped after.
// Errors wrap ErrGraph (g is malformed) or ErrInternal.
func Compile(g *Graph, opts *CompileOptions) (*Net, error) {
	shapes, err := g.Validate()
	if err != nil {
		return nil, err
	}
	n := &Net{shapes: shapes, outputs: append([]int(nil), g.Outputs...)}
	for i := range g.Nodes {
		nd := &g.Nodes[i]
		in := make([]Shape, len(nd.Inputs))
		for k, v := range nd.Inputs {
			in[k] = shapes[v]
		}
		k := newKernel(nd, in, shapes[i+1])
		n.kernels = append(n.kernels, k)
		n.inputs = append(n.inputs, append([]int(nil), nd.Inputs...))
		n.colSize = max(n.colSize, k.colSize())
	}
	n.lastUse = make([]int, len(shapes))
	for v := range n.lastUse {
		n.lastUse[v] = -1 // never read
	}
	for i, ins := range n.inputs {
		for _, v := range ins {
			n.lastUse[v] = i
		}
	}
	for _, o := range n.outputs {
		n.lastUse[o] = len(n.kernels)
	}
	n.stages = stages(shapes)
	var o CompileOptions
	if opts != nil {
		o = *opts
	}
	n.max = o.Workers
	if n.max <= 0 {
		n.max = runtime.GOMAXPROCS(0)
	}
	n.max = min(n.max, MaxWorkers)
	n.idle = make(chan *worker, n.max)
	// Build one worker now so that graph errors surface here.
	w, err := n.get()
	if err != nil {
		return nil, err
	}
	n.put(w)
	return n, nil
}

// stages splits the nodes into runs whose outputs share one spatial
// resolution — a CNN's stages — each executed as one Gorgonia node.
func stages(shapes []Shape) []stage {
	var st []stage
	for i := 1; i < len(shapes); i++ {
		s := shapes[i]
		if len(st) > 0 {
			p := shapes[i-1]
			if i-1 > 0 && p.H == s.H && p.W == s.W {
				st[len(st)-1].hi = i
				continue
			}
		}
		st = append(st, stage{lo: i - 1, hi: i})
	}
	return st
}

// Input returns the shape of the input.
func (n *Net) Input() Shape { return n.shapes[0] }

// Outputs returns the shapes of the values Run returns, in order.
func (n *Net) Outputs() []Shape {
	s := make([]Shape, len(n.outputs))
	for i, o := range n.outputs {
		s[i] = n.shapes[o]
	}
	return s
}

// Run runs the network on input (Input().Len() values in C, H, W order) and
// returns the Graph's outputs, freshly allocated, in C, H, W order. Errors
// wrap ErrInput or ErrInternal.
func (n *Net) Run(input []float32) ([][]float32, error) {
	in := n.shapes[0]
	if len(input) != in.Len() {
		return nil, fmt.Errorf("%w: input has %d values, want %v", ErrInput, len(input), in)
	}
	w, err := n.get()
	if err != nil {
		return nil, err
	}
	defer n.put(w)
	toHWC(w.vals[0], input, in)
	if err := w.forward(); err != nil {
		return nil, err
	}
	res := make([][]float32, len(n.outputs))
	for i, o := range n.outputs {
		res[i] = make([]float32, n.shapes[o].Len())
		toCHW(res[i], w.vals[o], n.shapes[o])
	}
	return res, nil
}

// RunHWC is Run with the input and outputs in H, W, C order (channels
// interleaved, as image pixels are) and the outputs written into dst, which
// must hold one slice of at least the output's length per output. It
// allocates nothing of its own; for a value of shape C x 1 x 1 both orders
// are the same. Errors wrap ErrInput or ErrInternal.
func (n *Net) RunHWC(dst [][]float32, input []float32) error {
	if len(input) != n.shapes[0].Len() {
		return fmt.Errorf("%w: input has %d values, want %v", ErrInput, len(input), n.shapes[0])
	}
	if len(dst) != len(n.outputs) {
		return fmt.Errorf("%w: %d destinations for %d outputs", ErrInput, len(dst), len(n.outputs))
	}
	for i, o := range n.outputs {
		if len(dst[i]) < n.shapes[o].Len() {
			return fmt.Errorf("%w: destination %d holds %d values, want %v", ErrInput, i, len(dst[i]), n.shapes[o])
		}
	}
	w, err := n.get()
	if err != nil {
		return err
	}
	defer n.put(w)
	copy(w.vals[0], input)
	if err := w.forward(); err != nil {
		return err
	}
	for i, o := range n.outputs {
		copy(dst[i], w.vals[o])
	}
	return nil
}

func toHWC(dst, src []float32, s Shape) {
	plane := s.H * s.W
	for c := range s.C {
		for p, v := range src[c*plane : (c+1)*plane] {
			dst[p*s.C+c] = v
		}
	}
}

func toCHW(dst, src []float32, s Shape) {
	plane := s.H * s.W
	for c := range s.C {
		d := dst[c*plane : (c+1)*plane]
		for p := range d {
			d[p] = src[p*s.C+c]
		}
	}
}

func (n *Net) get() (*worker, error) {
	select {
	case w := <-n.idle:
		return w, nil
	default:
	}
	n.mu.Lock()
	if n.created < n.max {
		n.created++
		n.mu.Unlock()
		w, err := newWorker(n)
		if err != nil {
			n.mu.Lock()
			n.created--
			n.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrInternal, err)
		}
		return w, nil
	}
	n.mu.Unlock()
	return <-n.idle, nil
}

func (n *Net) put(w *worker) { n.idle <- w }
