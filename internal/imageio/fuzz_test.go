package imageio

import (
	"encoding/binary"
	"errors"
	"image"
	"testing"
)

// FuzzDecode checks that Decode never panics, returns only the documented
// errors, respects its limits, and is deterministic. Run it with
//
//	go test -fuzz FuzzDecode ./internal/imageio/
func FuzzDecode(f *testing.F) {
	photo := blocksImage([]string{"ABC", "DEF"})
	j := encodeJPEG(f, photo)
	p := encodePNG(f, photo)
	g := encodeJPEG(f, image.NewGray(image.Rect(0, 0, 9, 5)))
	for _, seed := range [][]byte{
		j, p, g,
		insertAfterSOI(j, app0, exifAPP1(binary.LittleEndian, 6, 3)),
		insertAfterSOI(j, exifAPP1(binary.BigEndian, 7, 3)),
		insertAfterSOI(g, exifAPP1(binary.BigEndian, 5, 4)),
		j[:len(j)/2], p[:len(p)/2], j[:3], p[:8],
		pngHeader(20000, 20000), pngHeader(1, 1), jpegWithSize(f, j, 9000, 9000),
		[]byte("GIF89a"), {}, []byte("plain text"),
	} {
		f.Add(seed)
	}
	opts := &Options{MaxPixels: 1 << 16, MaxSide: 1024} // keep each run small
	f.Fuzz(func(t *testing.T, data []byte) {
		img, format, err := Decode(data, opts)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedFormat) && !errors.Is(err, ErrCorruptImage) && !errors.Is(err, ErrImageTooLarge) {
				t.Fatalf("undocumented error: %v", err)
			}
			if img != nil {
				t.Fatal("image returned with an error")
			}
			return
		}
		if format != JPEG && format != PNG {
			t.Fatalf("format %q", format)
		}
		b := img.Bounds()
		if b.Min != (image.Point{}) || b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > opts.MaxPixels || b.Dx() > opts.MaxSide || b.Dy() > opts.MaxSide {
			t.Fatalf("bounds %v outside the limits", b)
		}
		if o := Orientation(data); o < 1 || o > 8 {
			t.Fatalf("Orientation = %d", o)
		}
		img2, _, err := Decode(data, opts)
		if err != nil || img2.Bounds() != b || img2.At(b.Dx()/2, b.Dy()/2) != img.At(b.Dx()/2, b.Dy()/2) {
			t.Fatal("second decode differs")
		}
	})
}
