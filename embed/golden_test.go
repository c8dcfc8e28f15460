package embed

import (
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/sharedtest"
)

type goldenFile struct {
	Image      string `json:"image"`
	InputCheck struct {
		First6 []float64 `json:"first6"`
		Sum    float64   `json:"sum"`
	} `json:"input_check"`
	Raw  []float64 `json:"embedding_raw"`
	L2   []float64 `json:"embedding_l2normalized"`
	Flip struct {
		Raw []float64 `json:"embedding_raw"`
	} `json:"flip"`
	TTA []float64 `json:"flip_tta_l2normalized"`
}

// goldenCases loads every NAME.json with its NAME.png from the shared golden
// folder.
func goldenCases(t testing.TB) ([]goldenFile, []image.Image) {
	t.Helper()
	dir := sharedtest.Path(t, "golden", "mobilefacenet")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gs []goldenFile
	var imgs []image.Image
	for _, p := range paths {
		base := filepath.Base(p)
		if base == "index.json" || strings.HasPrefix(base, "mfn_layers") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var g goldenFile
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(g.Raw) != Dim || len(g.Flip.Raw) != Dim || len(g.TTA) != Dim || len(g.L2) != Dim {
			t.Fatalf("%s: vectors of %d/%d/%d/%d values", p, len(g.Raw), len(g.Flip.Raw), len(g.TTA), len(g.L2))
		}
		f, err := os.Open(filepath.Join(dir, g.Image))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", g.Image, err)
		}
		gs = append(gs, g)
		imgs = append(imgs, img)
	}
	if len(gs) < 8 {
		t.Fatalf("found %d golden cases, want 8", len(gs))
	}
	return gs, imgs
}

func compareVec(t *testing.T, what string, got []float32, want []float64, maxAbs, minCos float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var d, dot, ng, nw float64
	for i, w := range want {
		g := float64(got[i])
		d = math.Max(d, math.Abs(g-w))
		dot += g * w
		ng += g * g
		nw += w * w
	}
	cos := dot / math.Sqrt(ng*nw)
	if d > maxAbs || !(cos >= minCos) {
		t.Errorf("%s: max abs diff %.3g (limit %.3g), cosine %.8f (limit %.6f)", what, d, maxAbs, cos, minCos)
	} else {
		t.Logf("%s: max abs diff %.3g, cosine %.9f", what, d, cos)
	}
}

// TestGoldenMobileFaceNet checks the engine against embeddings the real TFLite
// runtime computed for eight 112x112 inputs: the raw outputs of the image and
// of its mirror within 1e-3 (max abs) and cosine ≥ 0.99999, and the flip-TTA
// and plain L2-normalised embeddings that Embed returns. The Embed checks run
// on the first case only (they repeat the same forward passes, which matters
// under CPU emulation: each pass costs seconds in qemu-aarch64); -short also
// trims the raw checks to three inputs.
func TestGoldenMobileFaceNet(t *testing.T) {
	gs, imgs := goldenCases(t)
	e, err := New(&Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(&Options{Workers: 1, DisableFlip: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range gs {
		if testing.Short() && i >= 3 {
			break
		}
		t.Run(strings.TrimSuffix(g.Image, ".png"), func(t *testing.T) {
			img := imgs[i]
			in := e.preprocessed(t, img)
			if math.Abs(in.sum-g.InputCheck.Sum) > 1e-3 {
				t.Errorf("input tensor sum %v, reference %v", in.sum, g.InputCheck.Sum)
			}
			for k, v := range g.InputCheck.First6 {
				if float64(in.first[k]) != v {
					t.Errorf("input[%d] = %v, reference %v", k, in.first[k], v)
				}
			}
			raw, err := e.raw(img, false)
			if err != nil {
				t.Fatal(err)
			}
			compareVec(t, "raw", raw, g.Raw, 1e-3, 0.99999)
			rawFlip, err := e.raw(img, true)
			if err != nil {
				t.Fatal(err)
			}
			compareVec(t, "flip raw", rawFlip, g.Flip.Raw, 1e-3, 0.99999)
			if i >= 1 {
				return
			}
			tta, err := e.Embed(img)
			if err != nil {
				t.Fatal(err)
			}
			compareVec(t, "flip tta", tta, g.TTA, 1e-4, 0.99999)
			l2, err := plain.Embed(img)
			if err != nil {
				t.Fatal(err)
			}
			compareVec(t, "plain l2", l2, g.L2, 1e-4, 0.99999)
			// Embed is exactly the normalised raw output(s).
			want := make([]float32, Dim)
			sum := make([]float32, Dim)
			for k := range sum {
				sum[k] = raw[k] + rawFlip[k]
			}
			nn.Normalize(want, sum)
			if !slices.Equal(tta, want) {
				t.Error("Embed with flip is not normalise(raw + raw of mirror)")
			}
			nn.Normalize(want, raw)
			if !slices.Equal(l2, want) {
				t.Error("Embed without flip is not normalise(raw)")
			}
		})
	}
}

type inputSummary struct {
	first [6]float32
	sum   float64
}

// preprocessed returns a summary of the input tensor Embed builds for img.
func (e *Embedder) preprocessed(t *testing.T, img image.Image) inputSummary {
	t.Helper()
	in := make([]float32, InputSize*InputSize*3)
	if err := load(in, img, false); err != nil {
		t.Fatal(err)
	}
	var s inputSummary
	copy(s.first[:], in)
	for _, v := range in {
		s.sum += float64(v)
	}
	return s
}
