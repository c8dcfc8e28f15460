package onet

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/facematch/facematch/internal/gemm"
	"github.com/facematch/facematch/internal/tflite"
	"github.com/facematch/facematch/weights"
)

// refNet is the interpreter as it was before the convolutions went through
// gemm: every operator on its own (PReLU as its six element-wise ops), and
// CONV_2D and FULLY_CONNECTED as direct scalar loops.
type refNet struct {
	n     *Net
	steps []step
}

func newRefNet(t *testing.T, n *Net) *refNet {
	t.Helper()
	m, err := tflite.Parse(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	r := &refNet{n: n}
	for _, op := range m.Subgraphs[0].Operators {
		var s step
		switch op.Builtin {
		case tflite.OpConv2D:
			s = refConv(t, n, op)
		case tflite.OpFullyConnected:
			s = refFullyConnected(t, n, op)
		default:
			if s, err = n.compile(op); err != nil {
				t.Fatal(err)
			}
		}
		r.steps = append(r.steps, s)
	}
	return r
}

// forward runs the reference on in and returns every tensor.
func (r *refNet) forward(in []float32) [][]float32 {
	ws := &workspace{t: make([][]float32, len(r.n.shapes))}
	for i, c := range r.n.consts {
		if c != nil {
			ws.t[i] = c
		} else {
			ws.t[i] = make([]float32, tflite.Elements(r.n.shapes[i]))
		}
	}
	copy(ws.t[r.n.input], in)
	for _, s := range r.steps {
		s(ws)
	}
	return ws.t
}

func refActivation(t *testing.T, n *Net, op tflite.Operator) func(float32) float32 {
	act, err := n.activation(op)
	if err != nil {
		t.Fatal(err)
	}
	return act
}

// refConv is the direct convolution: for each output pixel and channel, the
// bias plus the filter's dot product with the input under it, tap by tap.
func refConv(t *testing.T, n *Net, op tflite.Operator) step {
	act := refActivation(t, n, op)
	x, w, out := op.Inputs[0], op.Inputs[1], op.Outputs[0]
	xs, wsh := n.shapes[x], n.shapes[w]
	oc, kh, kw, ic := wsh[0], wsh[1], wsh[2], wsh[3]
	sh, sw := max(op.Options.StrideH, 1), max(op.Options.StrideW, 1)
	oh, padT := window(xs[1], kh, sh, op.Options.Padding)
	ow, padL := window(xs[2], kw, sw, op.Options.Padding)
	bias := make([]float32, oc)
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		copy(bias, n.consts[op.Inputs[2]])
	}
	filt := n.consts[w]
	ih, iw := xs[1], xs[2]
	return func(ws *workspace) {
		in, y := ws.t[x], ws.t[out]
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
	}
}

func refFullyConnected(t *testing.T, n *Net, op tflite.Operator) step {
	act := refActivation(t, n, op)
	x, w, out := op.Inputs[0], op.Inputs[1], op.Outputs[0]
	units, depth := n.shapes[w][0], n.shapes[w][1]
	bias := make([]float32, units)
	if len(op.Inputs) > 2 && op.Inputs[2] >= 0 {
		copy(bias, n.consts[op.Inputs[2]])
	}
	wt := n.consts[w]
	return func(ws *workspace) {
		in, y := ws.t[x], ws.t[out]
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
	}
}

// TestForwardMatchesReference runs the compiled network (im2col + gemm,
// PReLU fused into the epilogue) and the reference on random inputs, with
// the assembly and the portable kernels, and compares every tensor the
// compiled network writes: each must be within 1e-4 of the reference,
// relative to the tensor's largest magnitude. It also checks that a second
// pass gives the same bits.
func TestForwardMatchesReference(t *testing.T) {
	n := newNet(t)
	ref := newRefNet(t, n)
	for _, asm := range []bool{true, false} {
		restore := gemm.SetAsm(asm)
		t.Run("kernel="+gemm.KernelName(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 7))
			for trial := range 3 {
				in := make([]float32, Input*Input*3)
				for i := range in {
					in[i] = r.Float32()*2 - 1 // the crop's (v-127.5)/128 range
				}
				want := ref.forward(in)
				ws := n.scratch.Get().(*workspace)
				copy(ws.t[n.input], in)
				for _, s := range n.steps {
					s(ws)
				}
				compared := 0
				for i, got := range ws.t {
					if got == nil || n.consts[i] != nil || i == n.input {
						continue
					}
					compared++
					var scale float64
					for _, v := range want[i] {
						scale = max(scale, math.Abs(float64(v)))
					}
					for j, v := range got {
						if d := math.Abs(float64(v) - float64(want[i][j])); d > 1e-4*scale {
							t.Fatalf("trial %d, tensor %d %v: [%d] = %v, reference %v (scale %.3g)",
								trial, i, n.shapes[i], j, v, want[i][j], scale)
						}
					}
				}
				if compared < 10 {
					t.Fatalf("compared only %d tensors", compared)
				}
				lm, reg, prob := n.forward(in)
				for range 2 {
					lm2, reg2, prob2 := n.forward(in)
					if !sameBits(lm[:], lm2[:]) || !sameBits(reg[:], reg2[:]) || !sameBits(prob[:], prob2[:]) {
						t.Fatalf("trial %d: two passes over the same input differ", trial)
					}
				}
				if !sameBits(lm[:], ws.t[n.outLm]) || !sameBits(prob[:], ws.t[n.outProb]) {
					t.Fatalf("trial %d: forward differs from the step-by-step pass", trial)
				}
				n.scratch.Put(ws)
			}
		})
		restore()
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestPReLUFused checks that all five PReLUs of the model fold into their
// convolution or fully connected layer, and that the match refuses a
// pattern whose intermediate tensor is read elsewhere.
func TestPReLUFused(t *testing.T) {
	n := newNet(t)
	m, err := tflite.Parse(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	sg := m.Subgraphs[0]
	if got, want := len(n.steps), len(sg.Operators)-5*6; got != want {
		t.Errorf("%d steps for %d operators, want %d (five fused PReLUs)", got, len(sg.Operators), want)
	}
	reads := make([]int, len(n.shapes))
	for _, op := range sg.Operators {
		for _, i := range op.Inputs {
			reads[i]++
		}
	}
	for _, o := range sg.Outputs {
		reads[o]++
	}
	_, _, inner, ok := n.preluAfter(sg.Operators, 0, reads)
	if !ok {
		t.Fatal("PReLU after the first convolution not matched")
	}
	for _, i := range inner {
		reads[i]++
		if _, _, _, ok := n.preluAfter(sg.Operators, 0, reads); ok {
			t.Errorf("matched although tensor %d is read elsewhere", i)
		}
		reads[i]--
	}
	if _, _, _, ok := n.preluAfter(sg.Operators, 1, reads); ok {
		t.Error("matched a pattern starting at a RELU")
	}
}
