package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
)

// blockColors label the 3x2 grid of 16x16 blocks of the asymmetric test
// image: stored row 0 is A B C, row 1 is D E F.
var blockColors = map[byte]color.RGBA{
	'A': {230, 30, 30, 255}, 'B': {30, 200, 30, 255}, 'C': {30, 30, 230, 255},
	'D': {230, 230, 30, 255}, 'E': {30, 220, 220, 255}, 'F': {220, 30, 220, 255},
}

const blk = 16 // one JPEG MCU at 4:2:0, so each block survives encoding

// blocksImage draws the grid given as rows of labels.
func blocksImage(rows []string) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, blk*len(rows[0]), blk*len(rows)))
	for r, row := range rows {
		for c := range len(row) {
			col := blockColors[row[c]]
			for y := r * blk; y < (r+1)*blk; y++ {
				for x := c * blk; x < (c+1)*blk; x++ {
					m.SetRGBA(x, y, col)
				}
			}
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exifAPP1 builds an APP1 segment holding a TIFF structure whose IFD0 has
// an unrelated tag (ImageWidth) and then Orientation with the given type.
// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func exifAPP1(bo byteOrder, orientation uint32, typ uint16) []byte {
	var t []byte
	if bo == binary.LittleEndian {
		t = append(t, 'I', 'I')
	} else {
		t = append(t, 'M', 'M')
	}
	t = bo.AppendUint16(t, 42)
	t = bo.AppendUint32(t, 8) // IFD0 right after the header
	t = bo.AppendUint16(t, 2) // two entries
	// ImageWidth, LONG, 1, 48
	t = bo.AppendUint16(t, 0x0100)
	t = bo.AppendUint16(t, 4)
	t = bo.AppendUint32(t, 1)
	t = bo.AppendUint32(t, 48)
	// Orientation
	t = bo.AppendUint16(t, 0x0112)
	t = bo.AppendUint16(t, typ)
	t = bo.AppendUint32(t, 1)
	if typ == 3 {
		t = bo.AppendUint16(t, uint16(orientation))
		t = bo.AppendUint16(t, 0)
	} else {
		t = bo.AppendUint32(t, orientation)
	}
	t = bo.AppendUint32(t, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// insertAfterSOI puts segments right after the SOI marker of a JPEG.
func insertAfterSOI(j []byte, segs ...[]byte) []byte {
	out := append([]byte{}, j[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

// app0 is a minimal JFIF APP0 segment, to put before the EXIF one.
var app0 = []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}

// labelsAt reads back the block grid of a decoded image by the nearest
// block colour at each block centre.
func labelsAt(t *testing.T, m image.Image) []string {
	t.Helper()
	b := m.Bounds()
	if b.Dx()%blk != 0 || b.Dy()%blk != 0 {
		t.Fatalf("size %v is not a whole number of blocks", b)
	}
	var rows []string
	for by := 0; by < b.Dy()/blk; by++ {
		var row []byte
		for bx := 0; bx < b.Dx()/blk; bx++ {
			c := color.RGBAModel.Convert(m.At(b.Min.X+bx*blk+blk/2, b.Min.Y+by*blk+blk/2)).(color.RGBA)
			best, bestD := byte('?'), 1<<30
			for l, bc := range blockColors {
				d := sq(int(c.R)-int(bc.R)) + sq(int(c.G)-int(bc.G)) + sq(int(c.B)-int(bc.B))
				if d < bestD {
					best, bestD = l, d
				}
			}
			if bestD > 3*12*12 {
				t.Errorf("block (%d,%d) colour %v matches no block colour", bx, by, c)
			}
			row = append(row, best)
		}
		rows = append(rows, string(row))
	}
	return rows
}

func sq(v int) int { return v * v }

// wantLayout is what a photo viewer shows for each EXIF orientation of the
// stored grid "ABC/DEF" (from the EXIF 2.3 definition of the tag: where
// stored row 0 and column 0 end up).
var wantLayout = map[int][]string{
	1: {"ABC", "DEF"},     // row 0 top, column 0 left
	2: {"CBA", "FED"},     // row 0 top, column 0 right
	3: {"FED", "CBA"},     // row 0 bottom, column 0 right
	4: {"DEF", "ABC"},     // row 0 bottom, column 0 left
	5: {"AD", "BE", "CF"}, // row 0 left, column 0 top
	6: {"DA", "EB", "FC"}, // row 0 right, column 0 top
	7: {"FC", "EB", "DA"}, // row 0 right, column 0 bottom
	8: {"CF", "BE", "AD"}, // row 0 left, column 0 bottom
}

func TestDecodeEXIFOrientation(t *testing.T) {
	stored := encodeJPEG(t, blocksImage([]string{"ABC", "DEF"}))
	for o := 1; o <= 8; o++ {
		for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, typ := range []uint16{3, 4} {
				t.Run(fmt.Sprintf("o%d/%v/type%d", o, bo, typ), func(t *testing.T) {
					data := insertAfterSOI(stored, app0, exifAPP1(bo, uint32(o), typ))
					if got := Orientation(data); got != o {
						t.Fatalf("Orientation = %d, want %d", got, o)
					}
					img, f, err := Decode(data, nil)
					if err != nil {
						t.Fatal(err)
					}
					if f != JPEG {
						t.Errorf("format %q", f)
					}
					if img.Bounds().Min != (image.Point{}) {
						t.Errorf("bounds %v do not start at 0,0", img.Bounds())
					}
					switch img.(type) {
					case *image.YCbCr:
						if o != 1 {
							t.Errorf("orientation %d returned the decoder's *image.YCbCr", o)
						}
					case *image.RGBA:
						if o == 1 {
							t.Error("orientation 1 copied the image")
						}
					default:
						t.Errorf("unexpected type %T", img)
					}
					got := labelsAt(t, img)
					if fmt.Sprint(got) != fmt.Sprint(wantLayout[o]) {
						t.Errorf("layout %v, want %v", got, wantLayout[o])
					}
				})
			}
		}
	}
}

func TestDecodeEXIFOrientationGray(t *testing.T) {
	// A grey JPEG decodes to *image.Gray and stays *image.Gray when rotated.
	g := image.NewGray(image.Rect(0, 0, 24, 8))
	for y := range 8 {
		for x := range 24 {
			g.SetGray(x, y, color.Gray{uint8(10 * (x / 8))}) // three 8x8 blocks: 0, 10, 20
		}
	}
	g.SetGray(0, 0, color.Gray{255}) // irrelevant to layout; blocks are read at their centres
	stored := encodeJPEG(t, g)
	for o := 1; o <= 8; o++ {
		img, _, err := Decode(insertAfterSOI(stored, exifAPP1(binary.BigEndian, uint32(o), 3)), nil)
		if err != nil {
			t.Fatal(err)
		}
		gi, ok := img.(*image.Gray)
		if !ok {
			t.Fatalf("o=%d: type %T, want *image.Gray", o, img)
		}
		// Block k (level 10k) is stored at column k; find where its centre went.
		for k := range 3 {
			sx, sy := 8*k+4, 4
			var dx, dy int
			switch o {
			case 1:
				dx, dy = sx, sy
			case 2:
				dx, dy = 23-sx, sy
			case 3:
				dx, dy = 23-sx, 7-sy
			case 4:
				dx, dy = sx, 7-sy
			case 5:
				dx, dy = sy, sx
			case 6:
				dx, dy = 7-sy, sx
			case 7:
				dx, dy = 7-sy, 23-sx
			case 8:
				dx, dy = sy, 23-sx
			}
			if v := int(gi.GrayAt(dx, dy).Y); v < 10*k-3 || v > 10*k+3 {
				t.Errorf("o=%d: block %d centre at (%d,%d) = %d, want ~%d", o, k, dx, dy, v, 10*k)
			}
		}
	}
}

func TestOrientationParsing(t *testing.T) {
	j := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	le, be := binary.LittleEndian, binary.BigEndian
	badMagic := exifAPP1(le, 6, 3)
	badMagic[4+6+2] = 43
	badOffset := exifAPP1(be, 6, 3)
	binary.BigEndian.PutUint32(badOffset[4+6+4:], 4000)
	shortLen := exifAPP1(le, 6, 3)
	binary.BigEndian.PutUint16(shortLen[2:], 0xFFF0) // runs past the end of the file
	otherAPP1 := []byte{0xFF, 0xE1, 0, 7, 'h', 't', 't', 'p', ':'}
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"no exif", j, 1},
		{"exif first", insertAfterSOI(j, exifAPP1(le, 8, 3)), 8},
		{"after APP0 and XMP APP1", insertAfterSOI(j, app0, otherAPP1, exifAPP1(be, 5, 3)), 5},
		{"fill bytes before marker", insertAfterSOI(j, []byte{0xFF, 0xFF}, exifAPP1(be, 7, 3)), 7},
		{"value 0", insertAfterSOI(j, exifAPP1(le, 0, 3)), 1},
		{"value 9", insertAfterSOI(j, exifAPP1(le, 9, 3)), 1},
		{"value 65536+6 as LONG", insertAfterSOI(j, exifAPP1(le, 65536+6, 4)), 1},
		{"wrong type (RATIONAL)", insertAfterSOI(j, exifAPP1(le, 6, 5)), 1},
		{"bad TIFF magic", insertAfterSOI(j, badMagic), 1},
		{"IFD offset outside", insertAfterSOI(j, badOffset), 1},
		{"segment length past end", insertAfterSOI(j, shortLen), 1},
		{"exif after SOS is ignored", append(append([]byte{}, j[:len(j)-2]...), exifAPP1(le, 6, 3)...), 1},
		{"not a jpeg", encodePNG(t, image.NewGray(image.Rect(0, 0, 2, 2))), 1},
		{"empty", nil, 1},
		{"SOI only", []byte{0xFF, 0xD8}, 1},
		{"truncated exif", insertAfterSOI(j, exifAPP1(le, 6, 3))[:20], 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Orientation(tc.data); got != tc.want {
				t.Errorf("Orientation = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head string
		want Format
		err  error
	}{
		{"jpeg", "\xFF\xD8\xFF\xE0\x00\x10JFIF", JPEG, nil},
		{"png", "\x89PNG\r\n\x1a\n\x00\x00", PNG, nil},
		{"empty", "", "", ErrCorruptImage},
		{"jpeg prefix", "\xFF\xD8", "", ErrCorruptImage},
		{"png prefix", "\x89PN", "", ErrCorruptImage},
		{"gif", "GIF89a\x01\x00", "", ErrUnsupportedFormat},
		{"webp", "RIFF\x10\x00\x00\x00WEBPVP8 ", "", ErrUnsupportedFormat},
		{"bmp", "BM\x36\x00\x00\x00", "", ErrUnsupportedFormat},
		{"tiff le", "II*\x00\x08\x00\x00\x00", "", ErrUnsupportedFormat},
		{"tiff be", "MM\x00*\x00\x00\x00\x08", "", ErrUnsupportedFormat},
		{"heic", "\x00\x00\x00\x18ftypheic", "", ErrUnsupportedFormat},
		{"text", "hello, world", "", ErrUnsupportedFormat},
		{"html", "<!doctype html>", "", ErrUnsupportedFormat},
		{"jpeg without third byte marker", "\xFF\xD8\x00\x00", "", ErrUnsupportedFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sniff([]byte(tc.head))
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("Sniff = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// pngHeader returns a PNG signature and an IHDR chunk for w x h RGB, with a
// valid CRC, followed by an empty IDAT and IEND: enough for DecodeConfig.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		td := append([]byte(typ), data...)
		b = append(b, td...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(td))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	chunk("IHDR", ihdr)
	chunk("IDAT", nil)
	chunk("IEND", nil)
	return b
}

// jpegWithSize rewrites the SOF0 dimensions of a baseline JPEG.
func jpegWithSize(t testing.TB, j []byte, w, h uint16) []byte {
	t.Helper()
	out := append([]byte{}, j...)
	for i := 2; i+9 < len(out); {
		if out[i] != 0xFF {
			t.Fatal("lost marker sync")
		}
		n := int(binary.BigEndian.Uint16(out[i+2:]))
		if out[i+1] == 0xC0 {
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
			return out
		}
		i += 2 + n
	}
	t.Fatal("no SOF0")
	return nil
}

func TestDecodeErrors(t *testing.T) {
	photo := blocksImage([]string{"ABC", "DEF"})
	j := encodeJPEG(t, photo)
	p := encodePNG(t, photo)
	var g bytes.Buffer
	if err := gif.Encode(&g, photo, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		opts *Options
		err  error
	}{
		{"0 bytes", nil, nil, ErrCorruptImage},
		{"text", []byte("not an image at all\n"), nil, ErrUnsupportedFormat},
		{"gif", g.Bytes(), nil, ErrUnsupportedFormat},
		{"bmp", []byte("BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), nil, ErrUnsupportedFormat},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), nil, ErrUnsupportedFormat},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00\x00\x00"), nil, ErrUnsupportedFormat},
		{"jpeg SOI only", []byte{0xFF, 0xD8, 0xFF}, nil, ErrCorruptImage},
		{"jpeg header only", j[:200], nil, ErrCorruptImage},
		{"jpeg truncated in scan", j[:len(j)*2/3], nil, ErrCorruptImage},
		{"jpeg scan garbage", append(append([]byte{}, j[:len(j)/2]...), bytes.Repeat([]byte{0xFF, 0x00, 0x13}, 300)...), nil, ErrCorruptImage},
		{"png signature only", p[:8], nil, ErrCorruptImage},
		{"png truncated", p[:len(p)/2], nil, ErrCorruptImage},
		{"png zero width", pngHeader(0, 10), nil, ErrCorruptImage},
		{"png bomb 20000x20000", pngHeader(20000, 20000), nil, ErrImageTooLarge},
		{"png 40000x10 side", pngHeader(40000, 10), nil, ErrImageTooLarge},
		{"jpeg bomb 10000x10000", jpegWithSize(t, j, 10000, 10000), nil, ErrImageTooLarge},
		{"jpeg 65000x1 side", jpegWithSize(t, j, 65000, 1), nil, ErrImageTooLarge},
		{"MaxPixels option", j, &Options{MaxPixels: 48*32 - 1}, ErrImageTooLarge},
		{"MaxSide option", p, &Options{MaxSide: 47}, ErrImageTooLarge},
		{"limits exactly met", j, &Options{MaxPixels: 48 * 32, MaxSide: 48}, nil},
		{"jpeg sof says more than data", jpegWithSize(t, j, 480, 320), nil, ErrCorruptImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, f, err := Decode(tc.data, tc.opts)
			if tc.err == nil {
				if err != nil || img == nil || f == "" {
					t.Fatalf("Decode = %v, %q, %v", img, f, err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("Decode error = %v, want %v", err, tc.err)
			}
			if img != nil || f != "" {
				t.Errorf("image %T and format %q returned with an error", img, f)
			}
		})
	}
}

func TestDecodeBombIsCheap(t *testing.T) {
	bomb := pngHeader(20000, 20000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, _, err := Decode(bomb, nil); !errors.Is(err, ErrImageTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 64<<10 {
		t.Errorf("refusing a 20000x20000 header allocated %d bytes per call", per)
	}
}

func TestDecodePNGTypesUntouched(t *testing.T) {
	// PNGs carry no EXIF orientation here; Decode returns the decoder's image.
	n := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	n.Pix[3] = 128
	g := image.NewGray16(image.Rect(0, 0, 4, 4))
	for _, tc := range []struct {
		img  image.Image
		want string
	}{{n, "*image.NRGBA"}, {g, "*image.Gray16"}, {blocksImage([]string{"AB"}), "*image.RGBA"}} {
		img, f, err := Decode(encodePNG(t, tc.img), nil)
		if err != nil || f != PNG {
			t.Fatal(f, err)
		}
		if got := fmt.Sprintf("%T", img); got != tc.want {
			t.Errorf("PNG of %T decoded to %s, want %s", tc.img, got, tc.want)
		}
		if img.Bounds() != tc.img.Bounds() {
			t.Errorf("bounds %v, want %v", img.Bounds(), tc.img.Bounds())
		}
	}
}

func TestOrientGeneric(t *testing.T) {
	// The fast paths (RGBA, YCbCr, Gray) and the generic path agree with a
	// direct per-pixel reference for every orientation, also for images
	// whose Bounds().Min is not zero.
	src := image.NewNRGBA(image.Rect(3, 5, 3+7, 5+4))
	for i := range src.Pix {
		src.Pix[i] = uint8(i*37 + 11)
	}
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 255 // opaque, so RGBA conversion is exact
	}
	rgba := image.NewRGBA(src.Rect)
	ycc := image.NewYCbCr(src.Rect, image.YCbCrSubsampleRatio444)
	gray := image.NewGray(src.Rect)
	for y := src.Rect.Min.Y; y < src.Rect.Max.Y; y++ {
		for x := src.Rect.Min.X; x < src.Rect.Max.X; x++ {
			c := src.NRGBAAt(x, y)
			rgba.Set(x, y, c)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
			gray.Set(x, y, c)
		}
	}
	ycc420 := func(r image.Rectangle) *image.YCbCr {
		m := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for i := range m.Y {
			m.Y[i] = uint8(i * 29)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*53+7), uint8(200-i*31)
		}
		return m
	}
	w, h := 7, 4
	for _, in := range []image.Image{src, rgba, ycc, gray, ycc420(src.Rect), ycc420(src.Rect.Add(image.Pt(1, 0)))} {
		for o := 1; o <= 8; o++ {
			out := Orient(in, o)
			b := in.Bounds()
			for sy := 0; sy < h; sy++ {
				for sx := 0; sx < w; sx++ {
					var dx, dy int
					switch o {
					case 1:
						dx, dy = sx, sy
					case 2:
						dx, dy = w-1-sx, sy
					case 3:
						dx, dy = w-1-sx, h-1-sy
					case 4:
						dx, dy = sx, h-1-sy
					case 5:
						dx, dy = sy, sx
					case 6:
						dx, dy = h-1-sy, sx
					case 7:
						dx, dy = h-1-sy, w-1-sx
					case 8:
						dx, dy = sy, w-1-sx
					}
					if o == 1 {
						dx, dy = dx+b.Min.X, dy+b.Min.Y
					}
					want := color.RGBAModel.Convert(in.At(b.Min.X+sx, b.Min.Y+sy))
					got := color.RGBAModel.Convert(out.At(dx, dy))
					if got != want {
						t.Fatalf("%T o=%d: src (%d,%d) = %v, dst (%d,%d) = %v", in, o, sx, sy, want, dx, dy, got)
					}
				}
			}
		}
	}
}

func TestGraceHopperFixtures(t *testing.T) {
	load := func(name string) image.Image {
		data, err := os.ReadFile(sharedtest.Path(t, "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		img, f, err := Decode(data, nil)
		if err != nil || f != JPEG {
			t.Fatalf("%s: %v %q", name, err, f)
		}
		return img
	}
	upright := load("grace_hopper_128.jpg")
	for _, tc := range []struct {
		name string
		o    int
	}{{"grace_hopper_128_exif_orientation6.jpg", 6}, {"grace_hopper_128_exif_orientation3.jpg", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(sharedtest.Path(t, "fixtures", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if o := Orientation(data); o != tc.o {
				t.Fatalf("Orientation = %d, want %d", o, tc.o)
			}
			img := load(tc.name)
			if img.Bounds() != upright.Bounds() {
				t.Fatalf("bounds %v, want %v", img.Bounds(), upright.Bounds())
			}
			meanDiff := meanAbsDiff(upright, img)
			t.Logf("mean abs difference to upright: %.2f grey levels", meanDiff)
			if meanDiff > 8 {
				t.Errorf("mean abs difference %.2f: not the upright picture", meanDiff)
			}
			// Every other orientation of the stored pixels must be clearly
			// worse, or the check above proves nothing.
			raw, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			for o := 1; o <= 8; o++ {
				if o == tc.o {
					continue
				}
				if d := meanAbsDiff(upright, Orient(raw, o)); d < 2*meanDiff {
					t.Errorf("orientation %d gives %.2f, close to the right one's %.2f", o, d, meanDiff)
				}
			}
		})
	}
}

// meanAbsDiff is the mean absolute RGB difference of two same-size images.
func meanAbsDiff(a, b image.Image) float64 {
	sum, n := 0.0, 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			u := color.RGBAModel.Convert(a.At(x, y)).(color.RGBA)
			v := color.RGBAModel.Convert(b.At(x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y)).(color.RGBA)
			sum += float64(abs(int(u.R)-int(v.R)) + abs(int(u.G)-int(v.G)) + abs(int(u.B)-int(v.B)))
			n += 3
		}
	}
	return sum / float64(n)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestSharedFixtures decodes every photo in ../shared/fixtures and checks
// the format and the (upright) size listed in FIXTURES.md.
func TestSharedFixtures(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		w, h int
	}{
		{"astronaut_eileen_collins.png", PNG, 512, 512},
		{"cameraman_cc0.png", PNG, 512, 512},
		{"obama_portrait_2012.jpg", JPEG, 910, 1137},
		{"obama_congress_2009.jpg", JPEG, 626, 1200},
		{"obama_blue_room_2010.jpg", JPEG, 1434, 2333},
		{"biden_blue_room_2010.jpg", JPEG, 970, 2204},
		{"obama_biden_two_faces.jpg", JPEG, 1126, 661},
		{"obama_partial_face.jpg", JPEG, 491, 1137},
		{"group_solvay_1927_gray.png", PNG, 1280, 926},
		{"grace_hopper_128.jpg", JPEG, 128, 128},
		{"grace_hopper_128_exif_orientation6.jpg", JPEG, 128, 128},
		{"grace_hopper_128_exif_orientation3.jpg", JPEG, 128, 128},
		{"noface_coffee.png", PNG, 600, 400},
		{"noface_rocket.jpg", JPEG, 640, 427},
		{"noface_hubble_deep_field.jpg", JPEG, 1000, 872},
		{"noface_cat_chelsea.png", PNG, 451, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(sharedtest.Path(t, "fixtures", tc.name))
			if err != nil {
				t.Fatal(err)
			}
			img, f, err := Decode(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.f || img.Bounds() != image.Rect(0, 0, tc.w, tc.h) {
				t.Errorf("got %s %v, want %s %dx%d", f, img.Bounds(), tc.f, tc.w, tc.h)
			}
			// Any prefix that cuts the file short is refused as corrupt.
			if _, _, err := Decode(data[:len(data)*3/4], nil); !errors.Is(err, ErrCorruptImage) {
				t.Errorf("truncated to 3/4: %v", err)
			}
		})
	}
}
