package main

import (
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/weights"
)

// decodeFile decodes a PNG or JPEG written by --annotate.
func decodeFile(t *testing.T, p string) (image.Image, string) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return img, format
}

// TestCompareMultipleFaces: the two-face photo as image2 is flagged in
// JSON and in words, refused with --single-face, and searched with
// --best-face.
func TestCompareMultipleFaces(t *testing.T) {
	if testing.Short() {
		t.Skip("large photos")
	}
	biden := sharedtest.Path(t, "fixtures", "biden_blue_room_2010.jpg")
	two := sharedtest.Path(t, "fixtures", "obama_biden_two_faces.jpg")
	code, out, _ := cliRun("compare", "--json", biden, two)
	v := decodeCompare(t, out)
	if code != 0 || v.MultipleFaces == nil || !*v.MultipleFaces || v.FacePolicy != "largest" ||
		len(v.Faces) != 2 || v.Faces[0].FaceCount != 1 || v.Faces[1].FaceCount != 2 || v.Faces[1].Count != 2 {
		t.Fatalf("exit %d: %s", code, out)
	}
	code, out, _ = cliRun("compare", biden, two)
	if code != 0 || !strings.Contains(out, "warning: image2 shows 2 faces") || !strings.Contains(out, "image2 (selfie)") {
		t.Errorf("human output lacks the warning or the roles (exit %d):\n%s", code, out)
	}
	code, out, errs := cliRun("compare", "--json", "--single-face", biden, two)
	v = decodeCompare(t, out)
	if code != 2 || v.Error == nil || v.Error.Code != "multiple_faces" || v.Error.Image != 2 {
		t.Fatalf("--single-face: exit %d %s %s", code, out, errs)
	}
	code, out, _ = cliRun("compare", "--json", "--single-face", biden, sharedtest.Path(t, "fixtures", "obama_congress_2009.jpg"))
	v = decodeCompare(t, out)
	if code != 1 || v.MultipleFaces == nil || *v.MultipleFaces || v.Faces[1].FaceCount != 1 {
		t.Errorf("--single-face, one face: exit %d %s", code, out)
	}
	// With --best-face Obama's portrait finds Obama among the two faces.
	obama := sharedtest.Path(t, "fixtures", "obama_portrait_2012.jpg")
	code, out, _ = cliRun("compare", "--json", obama, two)
	if v = decodeCompare(t, out); code != 1 || *v.Match {
		t.Errorf("default policy, Obama vs the two-face photo's largest face (Biden): exit %d %s", code, out)
	}
	code, out, _ = cliRun("compare", "--json", "--best-face", obama, two)
	if v = decodeCompare(t, out); code != 0 || !*v.Match || v.FacePolicy != "best" || !*v.MultipleFaces {
		t.Errorf("--best-face: exit %d %s", code, out)
	}
	if code, _, errs := cliRun("compare", "--single-face", "--best-face", obama, two); code != 2 || !strings.Contains(errs, "exclude") {
		t.Errorf("--single-face with --best-face: exit %d %s", code, errs)
	}
}

func TestAnnotate(t *testing.T) {
	a := cliTestdata(t, "astronaut.jpg")
	moved := cliTestdata(t, "astronaut_moved.jpg")
	dir := t.TempDir()
	t.Run("refuses another extension before any work", func(t *testing.T) {
		p := filepath.Join(dir, "out.gif")
		code, out, errs := cliRun("compare", "--json", "--annotate", p, a, moved)
		v := decodeCompare(t, out)
		if code != 2 || v.Error == nil || v.Error.Code != "usage" || !strings.Contains(errs, ".png") {
			t.Fatalf("exit %d %s %s", code, out, errs)
		}
		if _, err := os.Stat(p); err == nil {
			t.Error("a .gif name was written")
		}
	})
	t.Run("jpeg by extension", func(t *testing.T) {
		p := filepath.Join(dir, "out.JPG")
		if code, out, errs := cliRun("compare", "--annotate", p, a, moved); code != 0 {
			t.Fatalf("exit %d %s %s", code, out, errs)
		}
		if _, format := decodeFile(t, p); format != "jpeg" {
			t.Errorf("out.JPG holds %s", format)
		}
	})
	t.Run("written when no face is found", func(t *testing.T) {
		p := filepath.Join(dir, "noface.png")
		code, out, errs := cliRun("compare", "--annotate", p, a, cliGrayPNG(t))
		if code != 2 || !strings.Contains(errs, "no face") {
			t.Fatalf("exit %d %s %s", code, out, errs)
		}
		img, format := decodeFile(t, p)
		if format != "png" || img.Bounds().Dx() < 400 {
			t.Errorf("annotation %s %v", format, img.Bounds())
		}
	})
	t.Run("detect", func(t *testing.T) {
		for _, in := range []string{a, cliGrayPNG(t)} {
			p := filepath.Join(dir, "detect.png")
			os.Remove(p)
			code, out, errs := cliRun("detect", "--annotate", p, in)
			if code != 0 || !strings.Contains(out, "annotated image written") {
				t.Fatalf("%s: exit %d %s %s", in, code, out, errs)
			}
			if img, _ := decodeFile(t, p); img.Bounds().Dx() < 200 {
				t.Errorf("%s: annotation %v", in, img.Bounds())
			}
		}
		if code, _, _ := cliRun("detect", "--annotate", filepath.Join(dir, "x.bmp"), a); code != 2 {
			t.Errorf("detect --annotate x.bmp: exit %d", code)
		}
	})
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := cliRun(args...)
		if code != 0 || !strings.Contains(out, "github.com/facematch/facematch") ||
			!strings.Contains(out, weights.MobileFaceNetSHA256+"  mobilefacenet.tflite") ||
			!strings.Contains(out, weights.ONetSHA256+"  onet.tflite") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	code, out, _ := cliRun("version", "--json")
	if code != 0 || !strings.Contains(out, `"sha256":"`+weights.MobileFaceNetSHA256+`"`) {
		t.Errorf("version --json: exit %d %s", code, out)
	}
}
