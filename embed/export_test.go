package embed

import (
	"fmt"
	"image"
)

// raw returns the model's raw output (before L2 normalisation) for img, or
// for its horizontal mirror: the tests' seam for checks against a reference
// runtime.
func (e *Embedder) raw(img image.Image, mirror bool) ([]float32, error) {
	b := e.scratch.Get().(*buffers)
	defer e.scratch.Put(b)
	if img == nil {
		return nil, fmt.Errorf("%w: nil image", ErrInputSize)
	}
	if err := e.forward(b, img, mirror); err != nil {
		return nil, err
	}
	return append([]float32(nil), b.raw[:]...), nil
}
