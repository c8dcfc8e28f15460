package mtcnn_test

import (
	"fmt"
	"image"
	_ "image/jpeg"
	"log"
	"os"

	"github.com/facematch/facematch/internal/mtcnn"
)

func Example() {
	fh, err := os.Open("../../testdata/astronaut.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		log.Fatal(err)
	}
	d, err := mtcnn.New()
	if err != nil {
		log.Fatal(err)
	}
	// Faces of 40 pixels and more; windows may hang over the edges by a
	// quarter of their side.
	ps, err := d.Propose(img, &mtcnn.Options{MinFaceSize: 40, Overhang: 0.25})
	if err != nil {
		log.Fatal(err)
	}
	top := ps[0]
	fmt.Printf("face at (%.0f, %.0f), side %.0f, probability %.2f\n", top.X, top.Y, top.Size, top.Prob)
	// Output: face at (129, 47), side 86, probability 1.00
}
