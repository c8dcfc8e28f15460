package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia side of the runtime. A worker is one Gorgonia expression graph
// and tape machine. Each stage (a run of nodes at one resolution) is one
// graph node whose Op (stageOp) runs the stage's kernels over buffers the
// worker owns and returns a preallocated tensor over the stage's last value:
// a forward pass allocates no activations even though TapeMachine.Reset
// drops the machine's registers, and the machine's per-instruction costs are
// paid once per stage rather than once per layer. The graph's edges are the
// stages' data dependencies, so Gorgonia orders them.

// buildMu serialises graph construction: building two Gorgonia graphs at the
// same time races inside Gorgonia.
var buildMu sync.Mutex

type stageOp struct {
	id    int
	st    stage
	n     *Net
	w     *worker
	arity int
	shape Shape
	out   *tensor.Dense
	runs  uint64
}

func tensor3() hm.Type { return G.TensorType{Dims: 3, Of: G.Float32} }

func (op *stageOp) Arity() int { return op.arity }

func (op *stageOp) Type() hm.Type {
	ts := make([]hm.Type, op.arity+1)
	for i := range ts {
		ts[i] = tensor3()
	}
	return hm.NewFnType(ts...)
}

func (op *stageOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.shape.H, op.shape.W, op.shape.C}, nil
}

func (op *stageOp) Do(vals ...G.Value) (v G.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("nn: stage %d (nodes %d-%d) panicked: %v", op.id, op.st.lo, op.st.hi-1, r)
		}
	}()
	if len(vals) != op.arity {
		return nil, fmt.Errorf("nn: stage %d: %d inputs, want %d", op.id, len(vals), op.arity)
	}
	w := op.w
	for i := op.st.lo; i < op.st.hi; i++ {
		op.n.kernels[i].run(&w.ws, w.args[i], w.vals[i+1])
	}
	op.runs++
	return op.out, nil
}

func (op *stageOp) ReturnsPtr() bool     { return true }
func (op *stageOp) CallsExtern() bool    { return false }
func (op *stageOp) OverwritesInput() int { return -1 }
func (op *stageOp) String() string {
	return fmt.Sprintf("stage%d[%d:%d]", op.id, op.st.lo, op.st.hi)
}
func (op *stageOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "facematch.nn.stage.%d.%p", op.id, op) }
func (op *stageOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// worker is one graph + tape machine with its own buffers, used by one
// goroutine at a time.
type worker struct {
	vm     G.VM
	input  *G.Node
	inT    *tensor.Dense
	vals   [][]float32   // per value, H, W, C; vals[0] is the input
	args   [][][]float32 // per node: its input buffers
	ws     workspace
	stages []*stageOp
}

// newWorker builds the buffers and the Gorgonia graph for n. Values share
// buffers by liveness: a buffer returns to the pool after the last node
// that reads its value.
func newWorker(n *Net) (w *worker, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			w, err = nil, fmt.Errorf("nn: building the graph panicked: %v", r)
		}
	}()
	w = &worker{vals: make([][]float32, len(n.shapes)), args: make([][][]float32, len(n.kernels))}
	w.ws.col = make([]float32, n.colSize)
	in := n.shapes[0]
	w.vals[0] = make([]float32, in.Len())
	maxLen := 0
	for _, s := range n.shapes[1:] {
		maxLen = max(maxLen, s.Len())
	}
	var free [][]float32
	for i, ins := range n.inputs {
		var buf []float32
		if k := len(free); k > 0 {
			buf, free = free[k-1], free[:k-1]
		} else {
			buf = make([]float32, maxLen)
		}
		w.vals[i+1] = buf[:n.shapes[i+1].Len()]
		w.args[i] = make([][]float32, len(ins))
		for k, v := range ins {
			w.args[i][k] = w.vals[v]
		}
		for k, v := range ins {
			if v != 0 && n.lastUse[v] == i && !dupBefore(ins, k) {
				free = append(free, w.vals[v][:cap(w.vals[v])])
			}
		}
		if n.lastUse[i+1] < 0 {
			// A value nobody reads (not an output): its buffer is free
			// again right away.
			free = append(free, buf)
		}
	}

	g := G.NewGraph()
	w.inT = tensor.New(tensor.WithShape(in.H, in.W, in.C), tensor.WithBacking(w.vals[0]))
	w.input = G.NewTensor(g, G.Float32, 3, G.WithShape(in.H, in.W, in.C), G.WithName("input"))
	stageOf := make([]int, len(n.shapes)) // value → stage producing it (-1: input)
	stageOf[0] = -1
	nodes := make([]*G.Node, len(n.stages))
	for si, st := range n.stages {
		var children []*G.Node
		seen := map[int]bool{}
		for i := st.lo; i < st.hi; i++ {
			stageOf[i+1] = si
			for _, v := range n.inputs[i] {
				if v > st.lo && v <= st.hi {
					continue // produced inside this stage
				}
				src := stageOf[v]
				if seen[src] {
					continue
				}
				seen[src] = true
				if src < 0 {
					children = append(children, w.input)
				} else {
					children = append(children, nodes[src])
				}
			}
		}
		last := n.shapes[st.hi]
		op := &stageOp{id: si, st: st, n: n, w: w, arity: len(children), shape: last}
		op.out = tensor.New(tensor.WithShape(last.H, last.W, last.C), tensor.WithBacking(w.vals[st.hi]))
		node, err := G.ApplyOp(op, children...)
		if err != nil {
			return nil, fmt.Errorf("nn: stage %d: %w", si, err)
		}
		nodes[si] = node
		w.stages = append(w.stages, op)
	}
	w.vm = G.NewTapeMachine(g)
	return w, nil
}

func dupBefore(ins []int, k int) bool {
	for _, v := range ins[:k] {
		if v == ins[k] {
			return true
		}
	}
	return false
}

// forward runs the graph on the input already in w.vals[0].
func (w *worker) forward() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: forward pass panicked: %v", ErrInternal, r)
		}
	}()
	if len(w.stages) == 0 {
		return nil // a graph of no nodes returns its input
	}
	// Reset first: RunAll on a machine that already ran does nothing and
	// would silently leave the previous outputs in place.
	w.vm.Reset()
	if err := G.Let(w.input, w.inT); err != nil {
		return fmt.Errorf("%w: binding input: %w", ErrInternal, err)
	}
	before := w.stages[0].runs
	if err := w.vm.RunAll(); err != nil {
		return fmt.Errorf("%w: forward pass: %w", ErrInternal, err)
	}
	for _, s := range w.stages {
		if s.runs != before+1 {
			return fmt.Errorf("%w: stage %d did not run (stale machine state)", ErrInternal, s.id)
		}
	}
	return nil
}
