package embed_test

import (
	"fmt"
	"image"
	"log"
	"math"

	"github.com/facematch/facematch/embed"
)

// Embed two crops and compare them with the cosine similarity (a dot product,
// since embeddings are unit vectors). Real inputs are aligned face crops, for
// example from align.Crop.
func Example() {
	e, err := embed.New(nil) // bundled MobileFaceNet, flip TTA on
	if err != nil {
		log.Fatal(err)
	}
	crop := image.NewRGBA(image.Rect(0, 0, embed.InputSize, embed.InputSize))
	for i := range crop.Pix {
		crop.Pix[i] = uint8(i * 31 / 7)
	}
	a, err := e.Embed(crop)
	if err != nil {
		log.Fatal(err)
	}
	b, err := e.Embed(crop)
	if err != nil {
		log.Fatal(err)
	}
	var dot, n float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		n += float64(a[i]) * float64(a[i])
	}
	fmt.Println(len(a), math.Round(math.Sqrt(n)*1e4)/1e4, math.Round(dot*1e4)/1e4)

	_, err = e.Embed(image.NewRGBA(image.Rect(0, 0, 64, 64)))
	fmt.Println(err)
	// Output:
	// 192 1 1
	// embed: image must be 112x112: got 64x64
}
