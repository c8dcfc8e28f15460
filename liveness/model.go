package liveness

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/nn/pytorch"
)

// PatchSize is the side of the square BGR patch both networks read.
const PatchSize = 80

// bnEps is PyTorch's BatchNorm default epsilon, which minivision keeps.
const bnEps = 1e-5

// graphBuilder appends nodes to a Graph, reading parameters by name from a
// state dict and remembering which names it used, so that a parameter the
// architecture does not consume is reported instead of silently ignored.
type graphBuilder struct {
	sd   pytorch.StateDict
	used map[string]bool
	g    *nn.Graph
	err  error
}

func (b *graphBuilder) param(name string, shape ...int) []float32 {
	if b.err != nil {
		return nil
	}
	t, ok := b.sd[name]
	if !ok {
		b.err = fmt.Errorf("%w: parameter %q missing", ErrModel, name)
		return nil
	}
	if len(shape) > 0 {
		same := len(shape) == len(t.Shape)
		for i := 0; same && i < len(shape); i++ {
			same = shape[i] == t.Shape[i]
		}
		if !same {
			b.err = fmt.Errorf("%w: parameter %q has shape %v, want %v", ErrModel, name, t.Shape, shape)
			return nil
		}
	}
	b.used[name] = true
	return t.Data
}

func (b *graphBuilder) add(n nn.Node) int {
	b.g.Nodes = append(b.g.Nodes, n)
	return len(b.g.Nodes)
}

// foldBN folds the BatchNorm named prefix into node n.
func (b *graphBuilder) foldBN(n *nn.Node, prefix string) {
	c := n.OutC
	gamma := b.param(prefix+".weight", c)
	beta := b.param(prefix+".bias", c)
	mean := b.param(prefix+".running_mean", c)
	variance := b.param(prefix+".running_var", c)
	if b.err != nil {
		return
	}
	if err := nn.FoldBatchNorm(n, gamma, beta, mean, variance, bnEps); err != nil {
		b.err = fmt.Errorf("%w: %v", ErrModel, err)
	}
}

// conv adds minivision's Conv_block (conv without bias, BatchNorm, PReLU)
// or, with prelu false, its Linear_block (no activation). The kernel size
// comes from the weight's shape; a weight with one input channel per group
// on more than one channel is depthwise.
func (b *graphBuilder) conv(in int, prefix string, stride, pad int, prelu bool) int {
	if b.err != nil {
		return 0
	}
	t, ok := b.sd[prefix+".conv.weight"]
	if !ok || len(t.Shape) != 4 {
		b.err = fmt.Errorf("%w: %s.conv.weight missing or not 4-D", ErrModel, prefix)
		return 0
	}
	out, inPer, kh, kw := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	groups := 1
	if inPer == 1 && out > 1 {
		groups = out
	}
	n := nn.Node{Op: nn.Conv, Name: prefix, Inputs: []int{in}, Kernel: [2]int{kh, kw},
		Stride: [2]int{stride, stride}, Pad: [4]int{pad, pad, pad, pad}, Groups: groups, OutC: out,
		Weight: b.param(prefix + ".conv.weight")}
	b.foldBN(&n, prefix+".bn")
	if prelu {
		n.Act = nn.PReLU
		n.Slope = b.param(prefix+".prelu.weight", out)
	}
	return b.add(n)
}

// depthWise adds minivision's Depth_Wise block: 1x1 expand (PReLU), 3x3
// depthwise (PReLU), 1x1 project (linear), then the squeeze-excitation of
// Depth_Wise_SE when its parameters exist, and the residual sum when
// residual is set.
func (b *graphBuilder) depthWise(in int, prefix string, stride int, residual bool) int {
	x := b.conv(in, prefix+".conv", 1, 0, true)
	x = b.conv(x, prefix+".conv_dw", stride, 1, true)
	x = b.conv(x, prefix+".project", 1, 0, false)
	if _, ok := b.sd[prefix+".se_module.fc1.weight"]; ok && b.err == nil {
		x = b.squeezeExcite(x, prefix+".se_module")
	}
	if residual && b.err == nil {
		x = b.add(nn.Node{Op: nn.Add, Name: prefix + ".residual", Inputs: []int{in, x}})
	}
	return x
}

// squeezeExcite adds SEModule: global average pool, 1x1 conv + BatchNorm +
// ReLU, 1x1 conv + BatchNorm + sigmoid, channel-wise product with x.
func (b *graphBuilder) squeezeExcite(x int, prefix string) int {
	fc1 := b.sd[prefix+".fc1.weight"]
	fc2, ok := b.sd[prefix+".fc2.weight"]
	if !ok || len(fc1.Shape) != 4 || len(fc2.Shape) != 4 {
		b.err = fmt.Errorf("%w: %s: fc1/fc2 missing or not 4-D", ErrModel, prefix)
		return 0
	}
	pool := b.add(nn.Node{Op: nn.GlobalAvgPool, Name: prefix + ".avg_pool", Inputs: []int{x}})
	n1 := nn.Node{Op: nn.Conv, Name: prefix + ".fc1", Inputs: []int{pool}, Kernel: [2]int{1, 1}, OutC: fc1.Shape[0],
		Weight: b.param(prefix+".fc1.weight", fc1.Shape...), Act: nn.ReLU}
	b.foldBN(&n1, prefix+".bn1")
	h := b.add(n1)
	n2 := nn.Node{Op: nn.Conv, Name: prefix + ".fc2", Inputs: []int{h}, Kernel: [2]int{1, 1}, OutC: fc2.Shape[0],
		Weight: b.param(prefix+".fc2.weight", fc2.Shape...), Act: nn.Sigmoid}
	b.foldBN(&n2, prefix+".bn2")
	s := b.add(n2)
	return b.add(nn.Node{Op: nn.Mul, Name: prefix, Inputs: []int{x, s}})
}

var blockIndex = regexp.MustCompile(`^module\.(conv_[345])\.model\.(\d+)\.`)

// residualBlocks returns how many blocks each residual stage (conv_3,
// conv_4, conv_5) has in the state dict.
func residualBlocks(sd pytorch.StateDict) map[string]int {
	n := map[string]int{}
	for k := range sd {
		if m := blockIndex.FindStringSubmatch(k); m != nil {
			i, _ := strconv.Atoi(m[2])
			if i+1 > n[m[1]] {
				n[m[1]] = i + 1
			}
		}
	}
	return n
}

// buildMiniFASNet rebuilds minivision's MiniFASNet (V1, V2, V1SE, V2SE:
// they differ only in channel counts, read from the weights' shapes, and in
// squeeze-excitation, present when its parameters are) from a state dict
// saved from DataParallel ("module." prefix), with every BatchNorm folded.
// The graph reads a 3x80x80 BGR, 0-255 patch and returns the 3 logits
// (class 1: real face).
func buildMiniFASNet(sd pytorch.StateDict) (*nn.Graph, error) {
	b := &graphBuilder{sd: sd, used: map[string]bool{}, g: &nn.Graph{Input: nn.Shape{C: 3, H: PatchSize, W: PatchSize}}}
	x := b.conv(0, "module.conv1", 2, 1, true)
	x = b.conv(x, "module.conv2_dw", 1, 1, true)
	blocks := residualBlocks(sd)
	for _, stage := range []struct{ down, res string }{{"conv_23", "conv_3"}, {"conv_34", "conv_4"}, {"conv_45", "conv_5"}} {
		x = b.depthWise(x, "module."+stage.down, 2, false)
		if blocks[stage.res] == 0 {
			return nil, fmt.Errorf("%w: no blocks in stage %s", ErrModel, stage.res)
		}
		for i := range blocks[stage.res] {
			x = b.depthWise(x, fmt.Sprintf("module.%s.model.%d", stage.res, i), 1, true)
		}
	}
	x = b.conv(x, "module.conv_6_sep", 1, 0, true)
	x = b.conv(x, "module.conv_6_dw", 1, 0, false) // 5x5 depthwise to 1x1, linear
	if b.err != nil {
		return nil, b.err
	}
	lin, ok := sd["module.linear.weight"]
	if !ok || len(lin.Shape) != 2 {
		return nil, fmt.Errorf("%w: module.linear.weight missing or not 2-D", ErrModel)
	}
	dense := nn.Node{Op: nn.Dense, Name: "module.linear", Inputs: []int{x}, OutC: lin.Shape[0],
		Weight: b.param("module.linear.weight", lin.Shape...)}
	b.foldBN(&dense, "module.bn") // BatchNorm1d; dropout is the identity at inference
	x = b.add(dense)
	prob, ok := sd["module.prob.weight"]
	if !ok || len(prob.Shape) != 2 || prob.Shape[0] != 3 {
		return nil, fmt.Errorf("%w: module.prob.weight missing or not 3 x n", ErrModel)
	}
	x = b.add(nn.Node{Op: nn.Dense, Name: "module.prob", Inputs: []int{x}, OutC: 3,
		Weight: b.param("module.prob.weight", prob.Shape...)})
	if b.err != nil {
		return nil, b.err
	}
	var unused []string
	for k := range sd {
		if !b.used[k] && !strings.HasSuffix(k, "num_batches_tracked") {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, fmt.Errorf("%w: %d parameters not part of MiniFASNet, e.g. %q", ErrModel, len(unused), unused[0])
	}
	b.g.Outputs = []int{x}
	shapes, err := b.g.Validate()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	if out := shapes[x]; out.Len() != 3 {
		return nil, fmt.Errorf("%w: output shape %v, want 3 logits", ErrModel, out)
	}
	return b.g, nil
}
