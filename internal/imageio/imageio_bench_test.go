package imageio

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"testing"
)

// photoLike is a deterministic 640x480 image with smooth gradients and
// texture, so the JPEG is of realistic size.
func photoLike(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x*x + y*3) % 251), 255})
		}
	}
	return m
}

func BenchmarkDecode(b *testing.B) {
	j := encodeJPEG(b, photoLike(640, 480))
	p := encodePNG(b, photoLike(640, 480))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"jpeg640x480", j},
		{"jpeg640x480_exif6", insertAfterSOI(j, exifAPP1(binary.BigEndian, 6, 3))},
		{"png640x480", p},
		{"bomb_png_20000x20000", pngHeader(20000, 20000)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				_, _, _ = Decode(tc.data, nil)
			}
		})
	}
}

func BenchmarkOrient(b *testing.B) {
	ycc, _, err := Decode(encodeJPEG(b, photoLike(640, 480)), nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range []int{3, 6, 7} {
		b.Run(fmt.Sprintf("ycbcr640x480/o%d", o), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Orient(ycc, o)
			}
		})
	}
	g := image.NewGray(image.Rect(0, 0, 640, 480))
	b.Run("gray640x480/o6", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Orient(g, 6)
		}
	})
}

func BenchmarkOrientation(b *testing.B) {
	j := insertAfterSOI(encodeJPEG(b, photoLike(64, 48)), exifAPP1(binary.LittleEndian, 8, 3))
	b.ReportAllocs()
	for b.Loop() {
		Orientation(j)
	}
}
