package align_test

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/facematch/facematch/align"
	"gonum.org/v1/gonum/spatial/r2"
)

func ExampleEstimate() {
	// Landmarks of a face twice the template size, shifted by (100, 50).
	var lm [5]r2.Vec
	for i, p := range align.Template() {
		lm[i] = r2.Vec{X: 2*p.X + 100, Y: 2*p.Y + 50}
	}
	m, err := align.Estimate(lm, align.Template())
	if err != nil {
		panic(err)
	}
	// m maps the image onto the crop: halve and shift back.
	// m = {a, b, c, d, e, f}: x' = a*x + b*y + c, y' = d*x + e*y + f.
	fmt.Printf("scale %.3f, rotation terms %.3f %.3f\n", m[0], math.Abs(m[1]), math.Abs(m[3]))
	fmt.Printf("translation (%.3f, %.3f)\n", m[2], m[5])
	// Output:
	// scale 0.500, rotation terms 0.000 0.000
	// translation (-50.000, -25.000)
}

func ExampleCrop() {
	// A grey 640x480 photo with a white square on the nose tip at (320, 240).
	img := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = 90
	}
	for y := 236; y <= 244; y++ {
		for x := 316; x <= 324; x++ {
			img.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	// Five landmarks as a detector would report them (eyes, nose, mouth).
	lm := [5]r2.Vec{{X: 284, Y: 198}, {X: 356, Y: 198}, {X: 320, Y: 240}, {X: 290, Y: 281}, {X: 350, Y: 281}}
	crop, err := align.Crop(img, lm)
	if err != nil {
		panic(err)
	}
	fmt.Println(crop.Bounds())
	fmt.Println(crop.RGBAAt(56, 72)) // the nose tip lands near align.Template()[2]
	fmt.Println(crop.RGBAAt(5, 5))
	// Output:
	// (0,0)-(112,112)
	// {255 255 255 255}
	// {90 90 90 255}
}
