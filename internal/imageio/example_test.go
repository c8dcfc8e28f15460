package imageio_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"

	"github.com/facematch/facematch/internal/imageio"
)

func ExampleDecode() {
	// A 64x48 JPEG, as a client would upload it.
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48)), nil); err != nil {
		panic(err)
	}
	img, format, err := imageio.Decode(buf.Bytes(), nil)
	fmt.Println(format, img.Bounds().Dx(), img.Bounds().Dy(), err)

	// Anything that is not JPEG or PNG is refused by content.
	_, _, err = imageio.Decode([]byte("GIF89a..."), nil)
	fmt.Println(errors.Is(err, imageio.ErrUnsupportedFormat))

	// So is a header announcing more pixels than allowed.
	_, _, err = imageio.Decode(buf.Bytes(), &imageio.Options{MaxPixels: 1000})
	fmt.Println(errors.Is(err, imageio.ErrImageTooLarge))
	// Output:
	// jpeg 64 48 <nil>
	// true
	// true
}

func ExampleOrientation() {
	// A JPEG without EXIF is upright.
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		panic(err)
	}
	fmt.Println(imageio.Orientation(buf.Bytes()))
	// Output: 1
}
