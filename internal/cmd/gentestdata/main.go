// Command gentestdata regenerates the images in the module's testdata/
// folder from photos shipped in Debian packages, so that every committed
// image can be reproduced and traced to its source (see testdata/README.md).
//
// Fetch and unpack the two Debian packages (any directory will do):
//
//	apt-get download python3-skimage python-matplotlib-data
//	dpkg-deb -x python3-skimage_*.deb /tmp/deb
//	dpkg-deb -x python-matplotlib-data_*.deb /tmp/deb
//
// then, from the module root:
//
//	go run ./internal/cmd/gentestdata \
//	    -skimage /tmp/deb/usr/lib/python3/dist-packages/skimage/data \
//	    -mpl /tmp/deb/usr/share/matplotlib/mpl-data/sample_data \
//	    -out testdata
//
// It writes astronaut.jpg, astronaut_moved.jpg, astronaut_exif6.jpg and
// hopper.jpg and prints the SHA-256 of its inputs and outputs. The output is
// deterministic for a given Go release (image/jpeg's encoder).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/facematch/facematch/internal/imageio"
)

func main() {
	skimage := flag.String("skimage", "", "skimage/data folder of Debian's python3-skimage (holds astronaut.png)")
	mpl := flag.String("mpl", "", "mpl-data/sample_data folder of Debian's python-matplotlib-data (holds grace_hopper.jpg)")
	out := flag.String("out", "testdata", "output folder")
	flag.Parse()
	if *skimage == "" || *mpl == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*skimage, *mpl, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gentestdata:", err)
		os.Exit(1)
	}
}

func run(skimage, mpl, out string) error {
	astro, err := load(filepath.Join(skimage, "astronaut.png"))
	if err != nil {
		return err
	}
	hopper, err := load(filepath.Join(mpl, "grace_hopper.jpg"))
	if err != nil {
		return err
	}

	// 1. The reference photo: the 512x512 astronaut scaled to 400x400.
	ref := resize(astro, 400, 400)

	// 2. The same photo moved: rotated 12 degrees counter-clockwise about the
	// face, scaled by 0.8 and shifted so the face sits right of centre on a
	// 480x400 grey canvas.
	faceCentre := [2]float64{225, 115} // between the eyes, in astronaut.png
	moved := canvas(480, 400, color.RGBA{118, 122, 128, 255})
	m := similarityAbout(faceCentre, -12, 0.8, [2]float64{300, 170})
	draw.CatmullRom.Transform(moved, m, astro, astro.Bounds(), draw.Src, nil)

	// 3. The reference photo stored rotated 90 degrees counter-clockwise
	// with EXIF Orientation 6 ("rotate 90 clockwise to display"): a
	// viewer, and imageio.Decode, show it upright.
	stored := imageio.Orient(ref, 8)

	// 4. A different person: Grace Hopper, 512x600 scaled to 320x375.
	other := resize(hopper, 320, 375)

	files := []struct {
		name string
		img  image.Image
		exif int
	}{
		{"astronaut.jpg", ref, 0},
		{"astronaut_moved.jpg", moved, 0},
		{"astronaut_exif6.jpg", stored, 6},
		{"hopper.jpg", other, 0},
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, in := range []string{filepath.Join(skimage, "astronaut.png"), filepath.Join(mpl, "grace_hopper.jpg")} {
		if err := printSum("input ", in); err != nil {
			return err
		}
	}
	for _, f := range files {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, f.img, &jpeg.Options{Quality: 90}); err != nil {
			return err
		}
		data := buf.Bytes()
		if f.exif != 0 {
			data = withOrientation(data, f.exif)
		}
		// Check what was written decodes back as intended.
		back, _, err := imageio.Decode(data, nil)
		if err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
		want := f.img.Bounds()
		if f.exif >= 5 {
			want = image.Rect(0, 0, want.Dy(), want.Dx())
		}
		if back.Bounds() != want {
			return fmt.Errorf("%s decodes to %v, want %v", f.name, back.Bounds(), want)
		}
		p := filepath.Join(out, f.name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		if err := printSum("output", p); err != nil {
			return err
		}
	}
	return nil
}

func load(path string) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, _, err := imageio.Decode(data, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func canvas(w, h int, c color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, &image.Uniform{C: c}, image.Point{}, draw.Src)
	return m
}

func resize(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Rect, src, src.Bounds(), draw.Src, nil)
	return dst
}

// similarityAbout maps point c to point to, rotating by deg degrees
// (positive = clockwise on screen, as y points down) and scaling by s.
func similarityAbout(c [2]float64, deg, s float64, to [2]float64) f64.Aff3 {
	sin, cos := math.Sincos(deg * math.Pi / 180)
	a, b, d, e := s*cos, -s*sin, s*sin, s*cos
	return f64.Aff3{a, b, to[0] - (a*c[0] + b*c[1]), d, e, to[1] - (d*c[0] + e*c[1])}
}

// withOrientation inserts a big-endian EXIF APP1 segment holding only the
// Orientation tag right after the SOI marker of a JPEG.
func withOrientation(j []byte, o int) []byte {
	t := []byte("MM\x00\x2a\x00\x00\x00\x08") // TIFF header, IFD0 at offset 8
	t = binary.BigEndian.AppendUint16(t, 1)   // one entry
	t = binary.BigEndian.AppendUint16(t, 0x0112)
	t = binary.BigEndian.AppendUint16(t, 3) // SHORT
	t = binary.BigEndian.AppendUint32(t, 1)
	t = binary.BigEndian.AppendUint16(t, uint16(o))
	t = binary.BigEndian.AppendUint16(t, 0)
	t = binary.BigEndian.AppendUint32(t, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), t...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

func printSum(kind, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Printf("%s %x  %7d  %s\n", kind, sha256.Sum256(data), len(data), path)
	return nil
}
