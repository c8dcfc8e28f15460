package main

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/facematch/facematch/internal/imageio"
)

const testdata = "../../../testdata"

func decodeFile(t *testing.T, name string) (image.Image, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	img, f, err := imageio.Decode(data, nil)
	if err != nil || f != imageio.JPEG {
		t.Fatalf("%s: %v %q", name, err, f)
	}
	return img, data
}

// meanDiff is the mean absolute RGB difference over the pixels where mask
// is true (all pixels when mask is nil).
func meanDiff(a, b image.Image, mask func(x, y int) bool) float64 {
	sum, n := 0.0, 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if mask != nil && !mask(x, y) {
				continue
			}
			p := color.RGBAModel.Convert(a.At(x, y)).(color.RGBA)
			q := color.RGBAModel.Convert(b.At(x, y)).(color.RGBA)
			for _, d := range []int{int(p.R) - int(q.R), int(p.G) - int(q.G), int(p.B) - int(q.B)} {
				sum += float64(max(d, -d))
				n++
			}
		}
	}
	return sum / float64(n)
}

func TestTestdataFiles(t *testing.T) {
	sizes := map[string]image.Point{
		"astronaut.jpg":       {400, 400},
		"astronaut_moved.jpg": {480, 400},
		"astronaut_exif6.jpg": {400, 400},
		"hopper.jpg":          {320, 375},
	}
	imgs := map[string]image.Image{}
	total := 0
	for name, size := range sizes {
		img, data := decodeFile(t, name)
		total += len(data)
		if img.Bounds().Size() != size {
			t.Errorf("%s: %v, want %v", name, img.Bounds().Size(), size)
		}
		wantO := 1
		if name == "astronaut_exif6.jpg" {
			wantO = 6
		}
		if o := imageio.Orientation(data); o != wantO {
			t.Errorf("%s: EXIF orientation %d, want %d", name, o, wantO)
		}
		imgs[name] = img
	}
	if total > 1<<20 {
		t.Errorf("testdata images take %d bytes; keep them under 1 MB", total)
	}
	ref := imgs["astronaut.jpg"]

	// The EXIF copy shows the same picture once oriented.
	if d := meanDiff(ref, imgs["astronaut_exif6.jpg"], nil); d > 4 {
		t.Errorf("astronaut_exif6.jpg differs from astronaut.jpg by %.2f on average", d)
	}
	if d := meanDiff(ref, imgs["hopper.jpg"], func(x, y int) bool { return x < 320 && y < 375 }); d < 20 {
		t.Errorf("hopper.jpg is too close to astronaut.jpg (%.2f)", d)
	}

	// The moved copy is the reference photo under the documented similarity:
	// moved = T(original) and ref = S(original) with S a 400/512 scaling, so
	// warping ref by T∘S⁻¹ must reproduce moved where the photo covers it.
	s := 512.0 / 400
	m := similarityAbout([2]float64{225, 115}, -12, 0.8, [2]float64{300, 170})
	for _, tc := range []struct {
		name string
		m    f64.Aff3
		ok   bool
	}{
		{"documented transform", m, true},
		{"rotated the other way", similarityAbout([2]float64{225, 115}, 12, 0.8, [2]float64{300, 170}), false},
	} {
		tm := tc.m
		tm[0], tm[1], tm[3], tm[4] = tm[0]*s, tm[1]*s, tm[3]*s, tm[4]*s
		warped := image.NewRGBA(image.Rect(0, 0, 480, 400))
		covered := make([]bool, 480*400)
		draw.BiLinear.Transform(warped, tm, ref, ref.Bounds(), draw.Src, nil)
		// mark pixels whose source is well inside the photo
		inv := invert(tm)
		for y := range 400 {
			for x := range 480 {
				px := inv[0]*(float64(x)+0.5) + inv[1]*(float64(y)+0.5) + inv[2]
				py := inv[3]*(float64(x)+0.5) + inv[4]*(float64(y)+0.5) + inv[5]
				covered[y*480+x] = px > 4 && py > 4 && px < 396 && py < 396
			}
		}
		d := meanDiff(imgs["astronaut_moved.jpg"], warped, func(x, y int) bool { return covered[y*480+x] })
		t.Logf("%s: mean difference %.2f", tc.name, d)
		if tc.ok != (d < 6) {
			t.Errorf("%s: mean difference %.2f", tc.name, d)
		}
	}
}

func invert(m f64.Aff3) f64.Aff3 {
	det := m[0]*m[4] - m[1]*m[3]
	a, b, d, e := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return f64.Aff3{a, b, -(a*m[2] + b*m[5]), d, e, -(d*m[2] + e*m[5])}
}

// TestRegenerate rebuilds the files from the Debian sources when
// FACEMATCH_DEBIAN_DATA names the folder the packages were extracted into
// (see testdata/README.md) and checks they are byte-identical.
func TestRegenerate(t *testing.T) {
	root := os.Getenv("FACEMATCH_DEBIAN_DATA")
	if root == "" {
		t.Skip("set FACEMATCH_DEBIAN_DATA to the folder where python3-skimage and python-matplotlib-data were extracted")
	}
	out := t.TempDir()
	if err := run(filepath.Join(root, "usr/lib/python3/dist-packages/skimage/data"),
		filepath.Join(root, "usr/share/matplotlib/mpl-data/sample_data"), out); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"astronaut.jpg", "astronaut_moved.jpg", "astronaut_exif6.jpg", "hopper.jpg"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: regenerated file differs from testdata/%s", name, name)
		}
	}
}
