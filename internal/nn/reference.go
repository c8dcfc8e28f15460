package nn

import (
	"fmt"
	"math"
)

func sqrt(v float64) float64 { return math.Sqrt(v) }

// Reference runs g on input (g.Input.Len() values, C, H, W order) with plain
// loops and float64 accumulation, and returns the values g.Outputs names. It
// defines the meaning of every operation; fast runtimes are tested against
// it.
func (g *Graph) Reference(input []float32) ([][]float32, error) {
	shapes, err := g.Validate()
	if err != nil {
		return nil, err
	}
	if len(input) != g.Input.Len() {
		return nil, fmt.Errorf("%w: input has %d values, want %v", ErrGraph, len(input), g.Input)
	}
	vals := make([][]float32, len(shapes))
	vals[0] = input
	for i := range g.Nodes {
		n := &g.Nodes[i]
		in, is, os := vals[n.Inputs[0]], shapes[n.Inputs[0]], shapes[i+1]
		out := make([]float32, os.Len())
		switch n.Op {
		case Conv:
			refConv(n, in, is, out, os)
		case Dense:
			for o := range n.OutC {
				var acc float64
				if n.Bias != nil {
					acc = float64(n.Bias[o])
				}
				row := n.Weight[o*len(in) : (o+1)*len(in)]
				for k, v := range in {
					acc += float64(row[k]) * float64(v)
				}
				out[o] = float32(acc)
			}
		case Activate:
			copy(out, in)
		case Add:
			b := vals[n.Inputs[1]]
			for k := range out {
				out[k] = in[k] + b[k]
			}
		case Mul:
			b := vals[n.Inputs[1]]
			plane := is.H * is.W
			for k := range out {
				if len(b) == len(in) {
					out[k] = in[k] * b[k]
				} else {
					out[k] = in[k] * b[k/plane]
				}
			}
		case MaxPool, AvgPool:
			refPool(n, in, is, out, os)
		case GlobalAvgPool:
			plane := is.H * is.W
			for c := range is.C {
				var acc float64
				for _, v := range in[c*plane : (c+1)*plane] {
					acc += float64(v)
				}
				out[c] = float32(acc / float64(plane))
			}
		case Softmax:
			m := math.Inf(-1)
			for _, v := range in {
				m = math.Max(m, float64(v))
			}
			var sum float64
			for k, v := range in {
				e := math.Exp(float64(v) - m)
				out[k] = float32(e)
				sum += e
			}
			for k := range out {
				out[k] = float32(float64(out[k]) / sum)
			}
		case SoftmaxChannels:
			plane := is.H * is.W
			for p := range plane {
				m := math.Inf(-1)
				for c := range is.C {
					m = math.Max(m, float64(in[c*plane+p]))
				}
				var sum float64
				for c := range is.C {
					sum += math.Exp(float64(in[c*plane+p]) - m)
				}
				for c := range is.C {
					out[c*plane+p] = float32(math.Exp(float64(in[c*plane+p])-m) / sum)
				}
			}
		case L2Normalize:
			var ss float64
			for _, v := range in {
				ss += float64(v) * float64(v)
			}
			copy(out, in)
			if ss > 0 {
				inv := 1 / math.Sqrt(ss)
				for k, v := range in {
					out[k] = float32(float64(v) * inv)
				}
			}
		}
		activate(n, out, os)
		vals[i+1] = out
	}
	res := make([][]float32, len(g.Outputs))
	for k, o := range g.Outputs {
		res[k] = vals[o]
	}
	return res, nil
}

func refConv(n *Node, in []float32, is Shape, out []float32, os Shape) {
	g := n.groups()
	icg, ocg := is.C/g, os.C/g
	kh, kw := n.Kernel[0], n.Kernel[1]
	sy, sx := n.stride()
	for o := range os.C {
		grp := o / ocg
		for y := range os.H {
			for x := range os.W {
				var acc float64
				if n.Bias != nil {
					acc = float64(n.Bias[o])
				}
				for ic := range icg {
					c := grp*icg + ic
					for ky := range kh {
						iy := y*sy + ky - n.Pad[0]
						if iy < 0 || iy >= is.H {
							continue
						}
						for kx := range kw {
							ix := x*sx + kx - n.Pad[1]
							if ix < 0 || ix >= is.W {
								continue
							}
							w := n.Weight[((o*icg+ic)*kh+ky)*kw+kx]
							acc += float64(w) * float64(in[(c*is.H+iy)*is.W+ix])
						}
					}
				}
				out[(o*os.H+y)*os.W+x] = float32(acc)
			}
		}
	}
}

func refPool(n *Node, in []float32, is Shape, out []float32, os Shape) {
	kh, kw := n.Kernel[0], n.Kernel[1]
	sy, sx := n.stride()
	for c := range os.C {
		for y := range os.H {
			for x := range os.W {
				m, sum, cnt := math.Inf(-1), 0.0, 0
				for ky := range kh {
					iy := y*sy + ky - n.Pad[0]
					if iy < 0 || iy >= is.H {
						continue
					}
					for kx := range kw {
						ix := x*sx + kx - n.Pad[1]
						if ix < 0 || ix >= is.W {
							continue
						}
						v := float64(in[(c*is.H+iy)*is.W+ix])
						m = math.Max(m, v)
						sum += v
						cnt++
					}
				}
				r := m
				if n.Op == AvgPool {
					r = sum / float64(max(cnt, 1))
				}
				out[(c*os.H+y)*os.W+x] = float32(r)
			}
		}
	}
}

// activate applies n.Act to out (shape s) in place.
func activate(n *Node, out []float32, s Shape) {
	plane := s.H * s.W
	for k, v := range out {
		switch n.Act {
		case ReLU:
			out[k] = max(v, 0)
		case ReLU6:
			out[k] = min(max(v, 0), 6)
		case PReLU:
			if v < 0 {
				a := n.Slope[0]
				if len(n.Slope) > 1 {
					a = n.Slope[k/plane]
				}
				out[k] = a * v
			}
		case Sigmoid:
			out[k] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	}
}
