package liveness_test

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg"
	"os"

	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/liveness"
)

// Check one photo: find the face with package detect, map its box to the
// networks' convention, score it.
func Example() {
	b, err := os.ReadFile("../../shared/models/minifasnet/samples/image_T1.jpg")
	if err != nil {
		fmt.Println("sample photo not available")
		return
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := detect.New(nil)
	faces, _ := d.Detect(img)
	if len(faces) == 0 {
		fmt.Println("no face")
		return
	}
	c, err := liveness.New(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := c.Check(img, liveness.FromDetector(faces[0].Box))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("live: %v (score above 0.9: %v)\n", r.Live, r.Score > 0.9)
}

// The crop rule alone: a 100x100 box near the left edge of a 640x480 image,
// grown 2.7 times, is shifted right to stay inside.
func ExampleCropBox() {
	x0, y0, x1, y1 := liveness.CropBox(640, 480, 10, 190, 100, 100, 2.7)
	fmt.Println(image.Rect(x0, y0, x1+1, y1+1))
	// Output: (0,105)-(271,376)
}
