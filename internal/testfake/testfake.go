// Package testfake holds the test doubles several packages' tests share:
// an image that is read only through At, and a context that ends after a
// given number of looks. It is imported by tests only.
package testfake

import (
	"context"
	"image"
	"image/color"
)

// Noise is a W x H grey image.Image of pseudo-random pixels computed per
// call to At: no pixel buffer, and not a type package sample reads
// directly, so it is converted like an arbitrary caller's image, slowly.
type Noise struct{ W, H int }

func (m Noise) ColorModel() color.Model { return color.GrayModel }
func (m Noise) Bounds() image.Rectangle { return image.Rect(0, 0, m.W, m.H) }
func (m Noise) At(x, y int) color.Color {
	v := uint32(x)*0x9e3779b1 ^ uint32(y)*0x85ebca77
	v ^= v >> 15
	v *= 0x2c1b3c6d
	return color.Gray{Y: uint8(v >> 24)}
}

// Countdown is a context whose Err turns to context.Canceled after N
// looks, wherever in the code under test that falls; Looks counts them.
type Countdown struct {
	context.Context
	N, Looks int
}

// NewCountdown returns a Countdown over context.Background that ends
// after n looks.
func NewCountdown(n int) *Countdown {
	return &Countdown{Context: context.Background(), N: n}
}

func (c *Countdown) Err() error {
	c.Looks++
	if c.Looks > c.N {
		return context.Canceled
	}
	return nil
}
