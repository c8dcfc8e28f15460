package lfwcrop

import (
	"image"
	"image/color"
	"reflect"
	"testing"
)

func TestRect(t *testing.T) {
	bounds := image.Rect(0, 0, 250, 250)
	box := [4]float64{70, 60, 100, 120}
	for _, tc := range []struct {
		margin float64
		want   image.Rectangle
	}{
		{0, image.Rect(70, 60, 170, 180)},
		{0.25, image.Rect(45, 30, 195, 210)},
		{-0.1, image.Rect(80, 72, 160, 168)},
		{1, image.Rect(0, 0, 250, 250)}, // clipped
	} {
		if got := Rect(box, tc.margin, bounds); got != tc.want {
			t.Errorf("margin %v: %v, want %v", tc.margin, got, tc.want)
		}
	}
}

func TestCrop(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 10, 60, 60))
	img.Set(20, 30, color.RGBA{R: 200, A: 255})
	c := Crop(img, [4]float64{20, 30, 10, 10}, 0)
	if c.Bounds() != image.Rect(0, 0, 10, 10) || c.RGBAAt(0, 0).R != 200 {
		t.Errorf("crop %v, pixel %v", c.Bounds(), c.RGBAAt(0, 0))
	}
}

func TestPairImages(t *testing.T) {
	got := pairImages("10\t300\nA_B\t1\t4\nC\t2\tD_E\t13\n")
	want := []string{"A_B/A_B_0001.jpg", "A_B/A_B_0004.jpg", "C/C_0002.jpg", "D_E/D_E_0013.jpg"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}

func TestScale(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 30, 41))
	if Scale(img, 1) != img || Scale(img, 0.5) != img {
		t.Error("Scale with k ≤ 1 does not return its input")
	}
	if got := Scale(img, 4).Bounds(); got != image.Rect(0, 0, 120, 164) {
		t.Errorf("Scale by 4: %v, want 120x164", got)
	}
}
