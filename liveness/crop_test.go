package liveness

import (
	"errors"
	"image"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/internal/nn/pytorch"
	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/weights"
)

func TestCropBox(t *testing.T) {
	for _, tc := range []struct {
		name                string
		w, h                int
		x, y, bw, bh, scale float64
		x0, y0, x1, y1      int
	}{
		{"centred", 640, 480, 270, 190, 100, 100, 2, 220, 140, 420, 340},
		{"shifted right at the left edge", 640, 480, 10, 190, 100, 100, 2, 0, 140, 200, 340},
		{"shifted up at the bottom edge", 640, 480, 270, 400, 100, 79, 2, 220, 321, 420, 479},
		{"scale limited by the image", 200, 100, 50, 20, 60, 60, 4, 30, 0, 129, 99},
	} {
		x0, y0, x1, y1 := CropBox(tc.w, tc.h, tc.x, tc.y, tc.bw, tc.bh, tc.scale)
		if x0 != tc.x0 || y0 != tc.y0 || x1 != tc.x1 || y1 != tc.y1 {
			t.Errorf("%s: got [%d,%d]-[%d,%d], want [%d,%d]-[%d,%d]", tc.name, x0, y0, x1, y1, tc.x0, tc.y0, tc.x1, tc.y1)
		}
		if x0 < 0 || y0 < 0 || x1 > tc.w-1 || y1 > tc.h-1 {
			t.Errorf("%s: crop leaves the image", tc.name)
		}
	}
}

func TestPatchIdentityAndUniform(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 20, 10+PatchSize, 20+PatchSize))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	p := Patch(img, 0, 0, PatchSize-1, PatchSize-1) // same size: a pure copy, BGR planes
	const n = PatchSize * PatchSize
	for i := range n {
		for c, src := range []int{2, 1, 0} {
			if want := float32(img.Pix[4*i+src]); p[c*n+i] != want {
				t.Fatalf("pixel %d channel %d: %v, want %v", i, c, p[c*n+i], want)
			}
		}
	}
}

func decodeShared(t testing.TB, rel string) image.Image {
	b, err := os.ReadFile(sharedtest.Path(t, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestGoldenCrop goes from the decoded image and minivision's box to the
// patch and the softmax. For a PNG (lossless: both sides decode the same
// pixels) the patch must be bit-identical and the softmax within 1e-3.
// JPEGs differ a little because Go's image/jpeg and OpenCV's libjpeg-turbo
// use different IDCTs: for a 4:2:0 JPEG read directly (Patch upsamples its
// chroma as libjpeg does) the patch differs by ~0.02 levels on average and
// the softmax by up to 0.0053 (measured), held to 0.05 and 0.01. A JPEG
// with an EXIF rotation reaches Patch as an RGBA image that imageio.Orient
// made with image/jpeg's nearest-neighbour chroma: ~0.3 levels, softmax up
// to 0.013 (measured), held to 0.5 and 0.03.
func TestGoldenCrop(t *testing.T) {
	dir, recs := loadGolden(t)
	gs := goldenGraphs(t)
	n := 0
	for _, r := range recs {
		if r.Image == "" || (testing.Short() && n == 2) {
			continue
		}
		n++
		img := decodeShared(t, r.Image)
		b := img.Bounds()
		for i, m := range r.models() {
			x0, y0, x1, y1 := CropBox(b.Dx(), b.Dy(), r.BoxXYWH[0], r.BoxXYWH[1], r.BoxXYWH[2], r.BoxXYWH[3], m.Scale)
			got := Patch(img, x0, y0, x1, y1)
			want := readPatchHWC(t, filepath.Join(dir, m.Patch))
			var sum, worst float64
			for k := range got {
				d := math.Abs(float64(got[k] - want[k]))
				sum += d
				worst = max(worst, d)
			}
			out, err := gs[i].Reference(got)
			if err != nil {
				t.Fatal(err)
			}
			sm := Softmax([3]float32(out[0]))
			var dsm float64
			for k := range 3 {
				dsm = max(dsm, math.Abs(sm[k]-m.Softmax[k]))
			}
			t.Logf("%s %s: patch mean |Δ| %.2f max %.0f; softmax max |Δ| %.2g", filepath.Base(r.Image), models[i].Name, sum/float64(len(got)), worst, dsm)
			tol, patchTol := 0.03, 0.5
			if _, ok := img.(*image.YCbCr); ok {
				tol, patchTol = 0.01, 0.05
			}
			if filepath.Ext(r.Image) == ".png" {
				tol, patchTol = 1e-3, 0
			}
			if mean := sum / float64(len(got)); mean > patchTol {
				t.Errorf("%s %s: patch mean |Δ| %.3f > %.1f", r.Image, models[i].Name, mean, patchTol)
			}
			if dsm > tol {
				t.Errorf("%s %s: softmax %v, PyTorch %v", r.Image, models[i].Name, sm, m.Softmax)
			}
		}
	}
}

// TestGoldenEnsemble runs Checker.Check (image + minivision's box → both
// crops → both networks → mean real-face probability) against the mean of
// PyTorch's two class-1 probabilities, and the verdict of the original's
// argmax rule on the summed softmax.
func TestGoldenEnsemble(t *testing.T) {
	_, recs := loadGolden(t)
	c, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		base := filepath.Base(r.Image)
		if base != "image_T1.jpg" && base != "image_F1.jpg" && base != "astronaut_eileen_collins.png" {
			continue
		}
		img := decodeShared(t, r.Image)
		box := image.Rect(int(r.BoxXYWH[0]), int(r.BoxXYWH[1]), int(r.BoxXYWH[0]+r.BoxXYWH[2]), int(r.BoxXYWH[1]+r.BoxXYWH[3]))
		res, err := c.Check(img, box)
		if err != nil {
			t.Fatal(err)
		}
		want := (r.V2.Softmax[1] + r.V1SE.Softmax[1]) / 2
		tol := 0.03
		if filepath.Ext(base) == ".png" {
			tol = 1e-3
		}
		if math.Abs(res.Score-want) > tol {
			t.Errorf("%s: score %.5f, PyTorch %.5f", base, res.Score, want)
		}
		var sum [3]float64
		for k := range 3 {
			sum[k] = r.V2.Softmax[k] + r.V1SE.Softmax[k]
		}
		origLive := sum[1] > sum[0] && sum[1] > sum[2]
		if res.Live != origLive {
			t.Errorf("%s: live %v, original's argmax says %v", base, res.Live, origLive)
		}
	}
}

func TestModelErrors(t *testing.T) {
	if _, err := NewFromWeights([]byte("not a model"), nil, nil); !errors.Is(err, ErrModel) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := New(&Options{Threshold: 2}); err == nil {
		t.Error("threshold 2 accepted")
	}
	sd, err := pytorch.Decode(weights.MiniFASNetV2())
	if err != nil {
		t.Fatal(err)
	}
	missing := maps.Clone(sd)
	delete(missing, "module.conv_4.model.2.conv_dw.prelu.weight")
	if _, err := buildMiniFASNet(missing); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "conv_4.model.2") {
		t.Errorf("missing parameter: %v", err)
	}
	extra := maps.Clone(sd)
	extra["module.head.weight"] = pytorch.Tensor{Shape: []int{1}, Data: []float32{1}}
	if _, err := buildMiniFASNet(extra); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "module.head.weight") {
		t.Errorf("extra parameter: %v", err)
	}
	bad := maps.Clone(sd)
	bad["module.prob.weight"] = pytorch.Tensor{Shape: []int{2, 128}, Data: make([]float32, 256)}
	if _, err := buildMiniFASNet(bad); !errors.Is(err, ErrModel) {
		t.Errorf("2-class head: %v", err)
	}
	if _, err := c0().Check(image.NewRGBA(image.Rect(0, 0, 100, 100)), image.Rect(200, 200, 300, 300)); !errors.Is(err, ErrBox) {
		t.Errorf("box outside: %v", err)
	}
}

// c0 is a Checker whose networks must never run.
func c0() *Checker { return &Checker{threshold: DefaultThreshold} }
