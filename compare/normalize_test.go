package compare

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
)

func TestNormalizerApplyAndSimilarity(t *testing.T) {
	n := &Normalizer{Mean: []float32{0.5, 0, 0}, Remove: [][]float32{{0, 0, 1}}}
	// (1,0,1) - mean = (0.5,0,1); removing z leaves (0.5,0,0) → (1,0,0).
	got := n.Apply(nil, []float32{1, 0, 1})
	if want := []float32{1, 0, 0}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("Apply = %v, want %v", got, want)
	}
	// Two vectors that share the mean direction: similar raw, orthogonal
	// once it is removed.
	a, b := []float32{0.5, 1, 0}, []float32{0.5, 0, 1}
	if raw := Cosine(a, b); raw < 0.19 {
		t.Fatalf("raw cosine %v", raw)
	}
	n2 := &Normalizer{Mean: []float32{0.5, 0, 0}}
	if s := n2.Similarity(a, b); math.Abs(s) > 1e-7 {
		t.Errorf("centred similarity %v, want 0", s)
	}
	// Identity normalisers give Cosine.
	for _, id := range []*Normalizer{nil, {}} {
		if s := id.Similarity(a, b); s != Cosine(a, b) {
			t.Errorf("identity Similarity %v, Cosine %v", s, Cosine(a, b))
		}
		if v := id.Apply(nil, []float32{3, 4}); math.Abs(float64(v[0])-0.6) > 1e-7 || math.Abs(float64(v[1])-0.8) > 1e-7 {
			t.Errorf("identity Apply = %v, want unit length", v)
		}
	}
	// Lengths that do not match the statistics.
	if s := n2.Similarity([]float32{1, 2}, []float32{1, 2}); !math.IsNaN(s) {
		t.Errorf("Similarity of wrong length = %v, want NaN", s)
	}
	if v := n2.Apply(nil, []float32{1}); v != nil {
		t.Errorf("Apply of wrong length = %v, want nil", v)
	}
	// Similarity agrees with the cosine of the mapped vectors and never
	// allocates.
	if s, c := n.Similarity(a, []float32{0.2, 0.3, 0.9}), Cosine(n.Apply(nil, a), n.Apply(nil, []float32{0.2, 0.3, 0.9})); math.Abs(s-c) > 1e-6 {
		t.Errorf("Similarity %v, cosine of Apply %v", s, c)
	}
	if allocs := testing.AllocsPerRun(100, func() { n.Similarity(a, b) }); allocs != 0 {
		t.Errorf("Similarity allocates %v times", allocs)
	}
	// Apply reuses dst and never allocates when it has room.
	buf := make([]float32, 0, 3)
	if allocs := testing.AllocsPerRun(100, func() { n.Apply(buf, a) }); allocs != 0 {
		t.Errorf("Apply allocates %v times", allocs)
	}
}

func TestLoadModel(t *testing.T) {
	m, err := LoadModel([]byte(`{"normalizer":{"mean":[0.1,0.2],"remove":[[1,0]]},"calibration":{"A":20,"B":-8},"source":{"command":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Normalizer.Mean) != 2 || m.Calibration.A != 20 || m.Source.Command != "x" {
		t.Errorf("LoadModel = %+v", m)
	}
	for _, bad := range []string{
		`{`,
		`{"calibration":{"A":0,"B":1}}`,
		`{"calibration":{"A":-1,"B":1}}`,
		`{"normalizer":{"mean":[0.1,0.2],"remove":[[1]]},"calibration":{"A":20,"B":-8}}`,
	} {
		if _, err := LoadModel([]byte(bad)); !errors.Is(err, ErrModelFile) {
			t.Errorf("LoadModel(%s) err = %v, want ErrModelFile", bad, err)
		}
	}
}

// TestDefaultModel checks the bundled file: it loads, its normaliser (if
// any) fits MobileFaceNet's 192 values with unit directions, and the
// package-level values are its parts.
func TestDefaultModel(t *testing.T) {
	m := DefaultModel()
	if DefaultCalibration() != m.Calibration || !reflect.DeepEqual(DefaultNormalizer(), m.Normalizer) {
		t.Fatal("DefaultCalibration / DefaultNormalizer are not DefaultModel's parts")
	}
	if m.Source.Command == "" || len(m.Source.Data) == 0 {
		t.Errorf("weights/calibration.json does not say how it was made: %+v", m.Source)
	}
	// The accessors hand out copies: changing one leaves the package's
	// model, and so every later score, unchanged.
	m.Normalizer.Mean[0] += 1
	m.Calibration.A = -1
	if DefaultNormalizer().Mean[0] == m.Normalizer.Mean[0] || DefaultCalibration().A <= 0 {
		t.Fatal("DefaultModel returned the package's own model, not a copy")
	}
	n := DefaultNormalizer()
	if n.identity() {
		return
	}
	if len(n.Mean) != 192 {
		t.Errorf("mean has %d values, want 192", len(n.Mean))
	}
	for i, u := range n.Remove {
		var ss float64
		for _, v := range u {
			ss += float64(v) * float64(v)
		}
		if math.Abs(ss-1) > 1e-4 {
			t.Errorf("direction %d has squared norm %v, want 1", i, ss)
		}
	}
	// Deterministic: the same vectors give the bit-identical score.
	a, b := make([]float32, 192), make([]float32, 192)
	for i := range a {
		a[i], b[i] = float32(math.Sin(float64(i))), float32(math.Cos(float64(i)))
	}
	if s1, s2 := Similarity(a, b), Similarity(a, b); s1 != s2 || math.IsNaN(s1) {
		t.Errorf("Similarity %v then %v", s1, s2)
	}
	if s, c := Similarity(a, b), Cosine(n.Apply(nil, a), n.Apply(nil, b)); math.Abs(s-c) > 1e-6 {
		t.Errorf("Similarity %v, cosine of Apply %v", s, c)
	}
}

// TestDefaultModelOnGoldenEmbeddings scores the reference embeddings of the
// golden LFW crops (flip TTA, as the library embeds) with Similarity and
// Default: every pair of one person's crops passes the default threshold,
// every pair of two people fails even the lowest one.
func TestDefaultModelOnGoldenEmbeddings(t *testing.T) {
	dir := sharedtest.Path(t, "golden", "mobilefacenet")
	files, err := filepath.Glob(filepath.Join(dir, "*_[0-9][0-9][0-9][0-9].json"))
	if err != nil || len(files) < 4 {
		t.Skipf("golden embeddings: %d files, %v", len(files), err)
	}
	type golden struct {
		Emb []float32 `json:"flip_tta_l2normalized"`
	}
	embs := map[string][]float32{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(data, &g); err != nil || len(g.Emb) != 192 {
			t.Fatalf("%s: %v (%d values)", f, err, len(g.Emb))
		}
		embs[strings.TrimSuffix(filepath.Base(f), ".json")] = g.Emb
	}
	person := func(name string) string { return name[:len(name)-5] }
	genuine := 0
	for a, ea := range embs {
		for b, eb := range embs {
			if a >= b {
				continue
			}
			p := DefaultCalibration().Percentage(Similarity(ea, eb))
			if person(a) == person(b) {
				genuine++
				if p/100 < 0.70 {
					t.Errorf("%s / %s (same person): %.2f%%, below the default threshold", a, b, p)
				}
			} else if p/100 >= 0.70 {
				t.Errorf("%s / %s (two people): %.2f%%, passes the lowest threshold", a, b, p)
			}
		}
	}
	if genuine == 0 {
		t.Error("no genuine golden pair")
	}
}
