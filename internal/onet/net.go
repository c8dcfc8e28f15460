package onet

import (
	"errors"
	"fmt"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/tflite"
)

// ErrModel reports model bytes that are not a usable ONet TFLite graph.
var ErrModel = errors.New("onet: unusable model")

// Input is the side of the square crop the network reads.
const Input = 48

// Net is a compiled ONet. It is safe for concurrent use.
type Net struct {
	net *nn.Net
	// Positions in the graph's outputs of the landmarks ([10]: x1..x5,
	// y1..y5 relative to the crop), the box regression ([4]) and the
	// probabilities ([2]: background, face).
	outLm, outReg, outProb int
}

// New loads the ONet graph held in model (TFLite flatbuffer bytes) into the
// nn runtime.
func New(model []byte) (*Net, error) {
	g, err := tflite.Load(model)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if g.Input != (nn.Shape{C: 3, H: Input, W: Input}) {
		return nil, fmt.Errorf("%w: input %v, want 3x%dx%d", ErrModel, g.Input, Input, Input)
	}
	net, err := nn.Compile(g, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	n := &Net{net: net, outLm: -1, outReg: -1, outProb: -1}
	for i, s := range net.Outputs() {
		switch {
		case s == nn.Shape{C: 10, H: 1, W: 1}:
			n.outLm = i
		case s == nn.Shape{C: 4, H: 1, W: 1}:
			n.outReg = i
		case s == nn.Shape{C: 2, H: 1, W: 1}:
			n.outProb = i
		}
	}
	if len(net.Outputs()) != 3 || n.outLm < 0 || n.outReg < 0 || n.outProb < 0 {
		return nil, fmt.Errorf("%w: outputs %v, want [10], [4] and [2]", ErrModel, net.Outputs())
	}
	return n, nil
}

// forward runs the network on in (48x48 RGB in H, W, C order, already
// normalised) and copies the three outputs out.
func (n *Net) forward(in []float32) (lm [10]float32, reg [4]float32, prob [2]float32, err error) {
	var dst [3][]float32
	dst[n.outLm], dst[n.outReg], dst[n.outProb] = lm[:], reg[:], prob[:]
	err = n.net.RunHWC(dst[:], in)
	return lm, reg, prob, err
}
