package detect_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"log"
	"os"

	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/internal/imageio"
)

// Detect on a decoded photo: faces come largest first, each with a box, a
// score and five landmarks in the photo's own coordinates.
func Example() {
	data, err := os.ReadFile("selfie.jpg")
	if err != nil {
		log.Fatal(err)
	}
	img, _, err := imageio.Decode(data, nil) // applies EXIF orientation
	if err != nil {
		log.Fatal(err)
	}
	d, err := detect.New(nil) // safe to share between goroutines
	if err != nil {
		log.Fatal(err)
	}
	faces, err := d.Detect(img)
	if err != nil {
		log.Fatal(err)
	}
	if len(faces) == 0 {
		fmt.Println("no face")
		return
	}
	f := faces[0]
	fmt.Println("box", f.Box, "score", f.Score)
	fmt.Println("left eye", f.Landmarks[0], "right eye", f.Landmarks[1])
}

// No face is not an error: Detect returns an empty slice. Input it cannot
// work with is reported with errors.Is-able sentinels.
func ExampleDetector_Detect() {
	d, err := detect.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	wall := image.NewRGBA(image.Rect(0, 0, 320, 240))
	draw.Draw(wall, wall.Bounds(), image.NewUniform(color.RGBA{200, 180, 160, 255}), image.Point{}, draw.Src)
	faces, err := d.Detect(wall)
	fmt.Println(len(faces), err)

	_, err = d.Detect(image.NewGray(image.Rect(0, 0, 10, 10)))
	fmt.Println(errors.Is(err, detect.ErrEmptyImage))

	_, err = detect.New(&detect.Options{MinFaceFraction: 3})
	fmt.Println(errors.Is(err, detect.ErrInvalidOptions))
	// Output:
	// 0 <nil>
	// true
	// true
}

// DetectContext stops when its context is done and returns the context's
// error, never a partial list of faces: a request's deadline bounds the
// detector too.
func ExampleDetector_DetectContext() {
	d, err := detect.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // e.g. the client went away
	faces, err := d.DetectContext(ctx, image.NewGray(image.Rect(0, 0, 640, 480)))
	fmt.Println(faces, errors.Is(err, context.Canceled))
	// Output:
	// [] true
}
