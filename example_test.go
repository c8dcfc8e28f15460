package facematch_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/facematch/facematch"
)

func Example() {
	m, err := facematch.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	// image1 is the reference (e.g. an ID photo), image2 the photo to check.
	res, err := m.Compare(context.Background(),
		facematch.File("testdata/astronaut.jpg"),
		facematch.File("testdata/astronaut_moved.jpg"),
		&facematch.CompareOptions{Threshold: 0.80})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("match:", res.Match, "threshold:", res.Threshold)
	fmt.Println("faces:", len(res.Images[0].Faces), len(res.Images[1].Faces))

	res, err = m.Compare(context.Background(),
		facematch.File("testdata/astronaut.jpg"),
		facematch.File("testdata/hopper.jpg"),
		nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("match:", res.Match, "threshold:", res.Threshold)
	// Output:
	// match: true threshold: 0.8
	// faces: 1 1
	// match: false threshold: 0.7
}

func ExampleImageError() {
	m, err := facematch.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	_, err = m.Compare(context.Background(),
		facematch.File("testdata/astronaut.jpg"),
		facematch.Bytes([]byte("GIF89a...")),
		nil)
	var ie *facematch.ImageError
	fmt.Println(errors.As(err, &ie), ie.Image)
	fmt.Println(errors.Is(err, facematch.ErrUnsupportedFormat))
	// Output:
	// true 2
	// true
}
