package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/facematch/facematch/internal/gemm"
)

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (r.Float32()*2 - 1) * scale
	}
	return s
}

// testGraph builds a graph using every op and activation, grouped,
// depthwise (with and without a channel multiplier), 1x1, 3x3 and 5x5
// convolutions, strides, asymmetric padding, a squeeze-excitation Mul,
// pools, and a Dense after a spatial value (flatten order), with random
// weights.
func testGraph(r *rand.Rand, in Shape) *Graph {
	conv := func(inC, outC, k, groups int, stride [2]int, pad [4]int, act Act, input int) Node {
		n := Node{Op: Conv, Inputs: []int{input}, Kernel: [2]int{k, k}, Stride: stride, Pad: pad, Groups: groups, OutC: outC,
			Weight: randSlice(r, outC*inC/max(groups, 1)*k*k, 0.5), Bias: randSlice(r, outC, 0.2), Act: act}
		if act == PReLU {
			n.Slope = randSlice(r, outC, 0.5)
		}
		return n
	}
	g := &Graph{Input: in}
	add := func(n Node) int { g.Nodes = append(g.Nodes, n); return len(g.Nodes) }
	v1 := add(conv(in.C, 8, 3, 1, [2]int{}, [4]int{1, 1, 1, 1}, PReLU, 0))
	v2 := add(conv(8, 8, 3, 8, [2]int{2, 2}, [4]int{0, 1, 1, 0}, ReLU6, v1))
	v3 := add(conv(8, 20, 1, 1, [2]int{}, [4]int{}, None, v2))
	v4 := add(conv(20, 20, 5, 4, [2]int{}, [4]int{2, 2, 2, 2}, ReLU, v3))
	v5 := add(Node{Op: Add, Inputs: []int{v3, v4}, Act: PReLU, Slope: []float32{0.25}})
	v6 := add(Node{Op: GlobalAvgPool, Inputs: []int{v5}})
	v7 := add(Node{Op: Dense, Inputs: []int{v6}, OutC: 4, Weight: randSlice(r, 4*20, 0.5), Bias: randSlice(r, 4, 0.1), Act: ReLU})
	v8 := add(conv(4, 20, 1, 1, [2]int{}, [4]int{}, Sigmoid, v7))
	v9 := add(Node{Op: Mul, Inputs: []int{v5, v8}})
	v10 := add(Node{Op: MaxPool, Inputs: []int{v9}, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	v11 := add(Node{Op: AvgPool, Inputs: []int{v10}, Kernel: [2]int{2, 2}, Pad: [4]int{0, 0, 1, 1}, Act: ReLU6})
	v12 := add(Node{Op: Mul, Inputs: []int{v10, v11}})
	v13 := add(Node{Op: Activate, Inputs: []int{v12}, Act: PReLU, Slope: randSlice(r, 20, 1)})
	g.Outputs = []int{v13}
	shapes, err := g.Validate()
	if err != nil {
		panic(err)
	}
	s13 := shapes[v13]
	v14 := add(Node{Op: Dense, Inputs: []int{v13}, OutC: 10, Weight: randSlice(r, 10*s13.Len(), 0.3), Bias: randSlice(r, 10, 0.1)})
	v15 := add(Node{Op: Softmax, Inputs: []int{v14}})
	v16 := add(Node{Op: L2Normalize, Inputs: []int{v14}})
	v17 := add(conv(20, 40, 5, 20, [2]int{2, 1}, [4]int{2, 0, 1, 3}, ReLU, v5))
	v18 := add(Node{Op: Activate, Inputs: []int{v17}, Act: Sigmoid})
	g.Outputs = []int{v15, v16, v9, v18, v1}
	return g
}

func closeTo(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: value %d = %v, want %v", name, i, got[i], want[i])
		}
	}
}

func TestRunMatchesReference(t *testing.T) {
	asm := gemm.KernelName() // -tags purego tests the portable kernel
	for seed := range uint64(3) {
		r := rand.New(rand.NewPCG(seed, 7))
		in := Shape{C: 3, H: 11, W: 13}
		if seed == 2 {
			in = Shape{C: 5, H: 9, W: 8}
		}
		g := testGraph(r, in)
		net, err := Compile(g, &CompileOptions{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		x := randSlice(r, in.Len(), 1)
		want, err := g.Reference(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := net.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		for k := range want {
			closeTo(t, fmt.Sprintf("kernel %s seed %d output %d", asm, seed, k), got[k], want[k], 1e-4)
		}
	}
}

func TestRunHWCMatchesRun(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := Shape{C: 3, H: 11, W: 13}
	g := testGraph(r, in)
	net, err := Compile(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(r, in.Len(), 1)
	want, err := net.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	hwc := make([]float32, len(x))
	toHWC(hwc, x, in)
	dst := make([][]float32, len(want))
	for i, s := range net.Outputs() {
		dst[i] = make([]float32, s.Len())
	}
	if err := net.RunHWC(dst, hwc); err != nil {
		t.Fatal(err)
	}
	for i, s := range net.Outputs() {
		chw := make([]float32, s.Len())
		toCHW(chw, dst[i], s)
		for k := range chw {
			if math.Float32bits(chw[k]) != math.Float32bits(want[i][k]) {
				t.Fatalf("output %d value %d: RunHWC %v, Run %v", i, k, chw[k], want[i][k])
			}
		}
	}
}

func TestRunDeterministicAcrossGoroutines(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	in := Shape{C: 3, H: 11, W: 13}
	g := testGraph(r, in)
	net, err := Compile(g, &CompileOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([][]float32, 6)
	want := make([][][]float32, len(inputs))
	for i := range inputs {
		inputs[i] = randSlice(r, in.Len(), 1)
		if want[i], err = net.Run(inputs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(inputs))
	for gr := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 * len(inputs) {
				i := (k + gr) % len(inputs)
				got, err := net.Run(inputs[i])
				if err != nil {
					errs <- err
					return
				}
				for o := range got {
					for j := range got[o] {
						if math.Float32bits(got[o][j]) != math.Float32bits(want[i][o][j]) {
							errs <- fmt.Errorf("input %d output %d value %d differs", i, o, j)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestRunErrors(t *testing.T) {
	g := &Graph{Input: Shape{1, 2, 2}, Nodes: []Node{{Op: Activate, Inputs: []int{0}, Act: ReLU}}, Outputs: []int{1}}
	net, err := Compile(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Run(make([]float32, 3)); !errors.Is(err, ErrInput) {
		t.Errorf("short input: %v, want ErrInput", err)
	}
	if err := net.RunHWC([][]float32{make([]float32, 3)}, make([]float32, 4)); !errors.Is(err, ErrInput) {
		t.Errorf("short destination: %v, want ErrInput", err)
	}
	if err := net.RunHWC(nil, make([]float32, 4)); !errors.Is(err, ErrInput) {
		t.Errorf("missing destination: %v, want ErrInput", err)
	}
	bad := &Graph{Input: Shape{1, 2, 2}, Nodes: []Node{{Op: Conv, Inputs: []int{0}, Kernel: [2]int{3, 3}, OutC: 1, Weight: make([]float32, 9)}}, Outputs: []int{1}}
	if _, err := Compile(bad, nil); !errors.Is(err, ErrGraph) {
		t.Errorf("kernel larger than input: %v, want ErrGraph", err)
	}
	// The output is also an input-only graph value: Run returns a copy.
	id := &Graph{Input: Shape{2, 1, 2}, Nodes: []Node{{Op: Activate, Inputs: []int{0}}}, Outputs: []int{0, 1}}
	net, err = Compile(id, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Run([]float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "identity", got[0], []float32{1, 2, 3, 4}, 0)
	closeTo(t, "identity", got[1], []float32{1, 2, 3, 4}, 0)
	// A graph of no nodes returns its input.
	net, err = Compile(&Graph{Input: Shape{1, 1, 2}, Outputs: []int{0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = net.Run([]float32{5, 6}); err != nil || len(got) != 1 {
		t.Fatalf("empty graph: %v, %v", got, err)
	}
	closeTo(t, "empty graph", got[0], []float32{5, 6}, 0)
}

// TestWorkersCapped runs more goroutines than workers: the Net must build
// no more than CompileOptions.Workers graphs.
func TestWorkersCapped(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	in := Shape{C: 3, H: 11, W: 13}
	net, err := Compile(testGraph(r, in), &CompileOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := randSlice(r, in.Len(), 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				if _, err := net.Run(x); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if net.created > 2 {
		t.Errorf("%d workers built, limit 2", net.created)
	}
}
