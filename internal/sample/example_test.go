package sample_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/facematch/facematch/internal/sample"
)

func Example() {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	img.Set(1, 0, color.RGBA{G: 100, A: 255})
	s := sample.New(img)

	row := make([]uint8, 3*3) // three pixels from x = 0; the third is outside
	s.RGBRow(0, 0, row)
	fmt.Println(row)

	var acc [3]float64
	s.AddBilinear(0.5, 0, &acc) // half-way between the two pixels
	fmt.Println(acc)
	// Output:
	// [200 0 0 0 100 0 0 0 0]
	// [100 50 0]
}
