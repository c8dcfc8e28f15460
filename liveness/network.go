package liveness

import "github.com/facematch/facematch/internal/nn"

// network runs one compiled graph: input C, H, W float32, outputs as the
// graph's Outputs. Implementations must be safe for concurrent use.
type network interface {
	Run(input []float32) ([][]float32, error)
}

// newNetwork is the one place a Graph becomes something that runs.
//
// INTERIM RUNNER: it wraps nn's float64 reference evaluator (exact, but
// seconds per image). When the fast runtime is merged, replace the body
// with `return nn.Compile(g, nil)`.
func newNetwork(g *nn.Graph) (network, error) {
	return referenceNetwork{g}, nil
}

// referenceNetwork adapts (*nn.Graph).Reference to network (interim; see
// newNetwork).
type referenceNetwork struct{ g *nn.Graph }

func (r referenceNetwork) Run(input []float32) ([][]float32, error) { return r.g.Reference(input) }
