package testfake

import (
	"context"
	"errors"
	"testing"
)

func TestCountdown(t *testing.T) {
	c := NewCountdown(2)
	for i, want := range []error{nil, nil, context.Canceled, context.Canceled} {
		if err := c.Err(); !errors.Is(err, want) && err != want {
			t.Errorf("look %d: %v, want %v", i+1, err, want)
		}
	}
	if c.Looks != 4 {
		t.Errorf("Looks %d, want 4", c.Looks)
	}
}

func TestNoiseDeterministic(t *testing.T) {
	m := Noise{W: 10, H: 10}
	if m.At(3, 4) != m.At(3, 4) || m.Bounds().Dx() != 10 {
		t.Fatal("Noise is not a fixed 10x10 image")
	}
}
