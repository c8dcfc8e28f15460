package embed

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia side of the engine. Each fused layer becomes one node whose Op
// (layerOp) owns its output tensor: Do writes into that preallocated buffer
// and returns it, so a forward pass allocates nothing per layer even though
// TapeMachine.Reset drops the machine's registers. Buffers are assigned from
// a small pool by liveness, so a worker holds a few activation-sized buffers
// rather than one per layer.

// buildMu serialises graph construction: building two Gorgonia graphs at the
// same time races inside Gorgonia.
var buildMu sync.Mutex

// layerOp adapts a layer to gorgonia.Op.
type layerOp struct {
	id    int // step index, makes the hash unique (Gorgonia hash-conses nodes)
	l     layer
	arity int
	ws    *workspace
	out   *tensor.Dense
	data  []float32
	ins   [][]float32 // reused input slice headers
}

func tensor4() hm.Type { return G.TensorType{Dims: 4, Of: G.Float32} }

func (op *layerOp) Arity() int { return op.arity }

func (op *layerOp) Type() hm.Type {
	ts := make([]hm.Type, op.arity+1)
	for i := range ts {
		ts[i] = tensor4()
	}
	return hm.NewFnType(ts...)
}

func (op *layerOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	s := op.l.outShape()
	return tensor.Shape{1, s.H, s.W, s.C}, nil
}

func (op *layerOp) Do(vals ...G.Value) (v G.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("embed: layer %d (%s) panicked: %v", op.id, op.l.describe(), r)
		}
	}()
	if len(vals) != op.arity {
		return nil, fmt.Errorf("embed: layer %d: %d inputs, want %d", op.id, len(vals), op.arity)
	}
	for i, x := range vals {
		d, ok := x.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("embed: layer %d: input %d is %T", op.id, i, x)
		}
		f, ok := d.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("embed: layer %d: input %d holds %T", op.id, i, d.Data())
		}
		op.ins[i] = f
	}
	op.l.run(op.ws, op.ins, op.data)
	return op.out, nil
}

func (op *layerOp) ReturnsPtr() bool      { return true }
func (op *layerOp) CallsExtern() bool     { return false }
func (op *layerOp) OverwritesInput() int  { return -1 }
func (op *layerOp) String() string        { return fmt.Sprintf("L%d:%s", op.id, op.l.describe()) }
func (op *layerOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "facematch.layer.%d.%p", op.id, op) }
func (op *layerOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// l2Op L2-normalises its input (the raw embedding) into an owned buffer. It
// also counts its runs, which lets the worker detect a stale RunAll.
type l2Op struct {
	n    int
	out  *tensor.Dense
	data []float32
	runs uint64
}

func (op *l2Op) Arity() int { return 1 }
func (op *l2Op) Type() hm.Type {
	return hm.NewFnType(tensor4(), tensor4())
}
func (op *l2Op) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{1, 1, 1, op.n}, nil
}
func (op *l2Op) Do(vals ...G.Value) (v G.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("embed: l2 normalisation panicked: %v", r)
		}
	}()
	if len(vals) != 1 {
		return nil, fmt.Errorf("embed: l2: %d inputs", len(vals))
	}
	d, ok := vals[0].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("embed: l2: input is %T", vals[0])
	}
	f, ok := d.Data().([]float32)
	if !ok || len(f) < op.n {
		return nil, fmt.Errorf("embed: l2: bad input")
	}
	l2normalize(op.data, f[:op.n])
	op.runs++
	return op.out, nil
}
func (op *l2Op) ReturnsPtr() bool      { return true }
func (op *l2Op) CallsExtern() bool     { return false }
func (op *l2Op) OverwritesInput() int  { return -1 }
func (op *l2Op) String() string        { return "L2Normalize" }
func (op *l2Op) WriteHash(h hash.Hash) { fmt.Fprintf(h, "facematch.l2.%p", op) }
func (op *l2Op) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// l2normalize writes x/‖x‖ into dst (accumulating the norm in float64). A zero
// vector stays zero.
func l2normalize(dst, x []float32) {
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

// worker is one graph + tape machine with its own buffers. A worker is used
// by one goroutine at a time.
type worker struct {
	g      *G.ExprGraph
	vm     G.VM
	input  *G.Node
	inData []float32
	inT    *tensor.Dense
	raw    []float32 // the raw embedding buffer (owned by the last layer)
	l2     *l2Op
}

// newWorker builds the Gorgonia graph for net. Steps share buffers by
// liveness: a buffer returns to the pool after the last step that reads it.
func newWorker(net *network) (w *worker, err error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			w, err = nil, fmt.Errorf("embed: building the graph panicked: %v", r)
		}
	}()
	g := G.NewGraph()
	w = &worker{g: g}
	s := net.input
	w.inData = make([]float32, s.size())
	w.inT = tensor.New(tensor.WithShape(1, s.H, s.W, s.C), tensor.WithBacking(w.inData))
	w.input = G.NewTensor(g, G.Float32, 4, G.WithShape(1, s.H, s.W, s.C), G.WithName("input"))

	// Liveness: last step reading each value.
	lastUse := make([]int, len(net.steps)+1)
	for i, st := range net.steps {
		for _, v := range st.inputs {
			lastUse[v] = i
		}
	}
	lastUse[net.output] = len(net.steps) // the output stays live
	maxSize := 0
	for _, st := range net.steps {
		maxSize = max(maxSize, st.l.outShape().size())
	}
	var free [][]float32
	bufOf := make([][]float32, len(net.steps)+1)
	nodes := make([]*G.Node, len(net.steps)+1)
	nodes[0] = w.input
	ws := &workspace{}
	for i, st := range net.steps {
		var buf []float32
		if n := len(free); n > 0 {
			buf, free = free[n-1], free[:n-1]
		} else {
			buf = make([]float32, maxSize)
		}
		os := st.l.outShape()
		data := buf[:os.size()]
		op := &layerOp{id: i, l: st.l, arity: len(st.inputs), ws: ws, data: data, ins: make([][]float32, len(st.inputs))}
		op.out = tensor.New(tensor.WithShape(1, os.H, os.W, os.C), tensor.WithBacking(data))
		children := make([]*G.Node, len(st.inputs))
		for k, v := range st.inputs {
			children[k] = nodes[v]
		}
		n, err := G.ApplyOp(op, children...)
		if err != nil {
			return nil, fmt.Errorf("embed: graph step %d (%s): %w", i, st.l.describe(), err)
		}
		nodes[i+1] = n
		bufOf[i+1] = buf
		// Release inputs whose last reader is this step (never the input
		// tensor, which the worker owns separately).
		for _, v := range st.inputs {
			if v != 0 && lastUse[v] == i && bufOf[v] != nil {
				free = append(free, bufOf[v])
				bufOf[v] = nil
			}
		}
	}
	w.raw = bufOf[net.output][:net.dim]
	w.l2 = &l2Op{n: net.dim, data: make([]float32, net.dim)}
	w.l2.out = tensor.New(tensor.WithShape(1, 1, 1, net.dim), tensor.WithBacking(w.l2.data))
	if _, err := G.ApplyOp(w.l2, nodes[net.output]); err != nil {
		return nil, fmt.Errorf("embed: l2 node: %w", err)
	}
	w.vm = G.NewTapeMachine(g)
	return w, nil
}

// forward runs the graph on the input currently in w.inData. Afterwards
// w.raw holds the raw output and w.l2.data its L2-normalised form.
func (w *worker) forward() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("embed: forward pass panicked: %v", r)
		}
	}()
	// Reset first: RunAll on a machine that already ran does nothing and
	// would silently leave the previous output in place.
	w.vm.Reset()
	if err := G.Let(w.input, w.inT); err != nil {
		return fmt.Errorf("embed: binding input: %w", err)
	}
	before := w.l2.runs
	if err := w.vm.RunAll(); err != nil {
		return fmt.Errorf("embed: forward pass: %w", err)
	}
	if w.l2.runs != before+1 {
		return fmt.Errorf("embed: forward pass did not run (stale machine state)")
	}
	return nil
}
