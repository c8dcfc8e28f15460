package liveness

import "github.com/facematch/facematch/internal/nn"

// network runs one compiled graph: input C, H, W float32, outputs as the
// graph's Outputs. Implementations must be safe for concurrent use.
type network interface {
	Run(input []float32) ([][]float32, error)
}

// newNetwork is the one place a Graph becomes something that runs: the
// project's runtime (internal/nn, Gorgonia over internal/gemm), after
// folding each activation into the layer before it.
func newNetwork(g *nn.Graph) (network, error) {
	return nn.Compile(nn.FuseActivations(g), nil)
}
