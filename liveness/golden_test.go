package liveness

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/weights"
)

// goldenModel is one network's record in golden/minifasnet/index.json.
type goldenModel struct {
	Scale   float64    `json:"scale"`
	Patch   string     `json:"patch"`
	Logits  [3]float64 `json:"logits"`
	Softmax [3]float64 `json:"softmax"`
}

type goldenRecord struct {
	Image     string      `json:"image"`
	BoxXYWH   [4]float64  `json:"bbox_xywh"`
	Synthetic string      `json:"synthetic"`
	V2        goldenModel `json:"v2"`
	V1SE      goldenModel `json:"v1se"`
}

func (r *goldenRecord) models() [NumModels]goldenModel { return [...]goldenModel{r.V2, r.V1SE} }

func loadGolden(t testing.TB) (dir string, recs []goldenRecord) {
	dir = sharedtest.Path(t, "golden", "minifasnet")
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct{ Records []goldenRecord }
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Records) < 16 {
		t.Fatalf("%d golden records, want 16", len(idx.Records))
	}
	return dir, idx.Records
}

// readPatchHWC reads an 80x80 uint8 BGR HWC patch as the network's CHW input.
func readPatchHWC(t testing.TB, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const n = PatchSize * PatchSize
	if len(b) != 3*n {
		t.Fatalf("%s: %d bytes", path, len(b))
	}
	out := make([]float32, 3*n)
	for i := range n {
		for c := range 3 {
			out[c*n+i] = float32(b[3*i+c])
		}
	}
	return out
}

func readF32(t testing.TB, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func goldenGraphs(t testing.TB) [NumModels]*nn.Graph {
	var gs [NumModels]*nn.Graph
	for i, w := range [][]byte{weights.MiniFASNetV2(), weights.MiniFASNetV1SE()} {
		g, err := LoadGraph(w)
		if err != nil {
			t.Fatal(err)
		}
		gs[i] = g
	}
	return gs
}

// referenceRunner runs a graph with nn's float64 reference evaluator.
type referenceRunner struct{ g *nn.Graph }

func (r referenceRunner) Run(in []float32) ([][]float32, error) { return r.g.Reference(in) }

// TestGoldenNetworkLogits feeds PyTorch's own patches (and the synthetic
// inputs) to the graphs and compares the logits with PyTorch's.
func TestGoldenNetworkLogits(t *testing.T) {
	dir, recs := loadGolden(t)
	gs := goldenGraphs(t)
	var nets [NumModels]network
	for i, g := range gs {
		var err error
		if nets[i], err = newNetwork(g); err != nil {
			t.Fatal(err)
		}
	}
	if testing.Short() {
		recs = recs[len(recs)-4:] // one image and the synthetic inputs
	}
	var worst float64
	for _, r := range recs {
		for i, m := range r.models() {
			var in []float32
			name := r.Image
			if r.Synthetic != "" {
				in, name = readF32(t, filepath.Join(dir, r.Synthetic)), r.Synthetic
			} else {
				in = readPatchHWC(t, filepath.Join(dir, m.Patch))
			}
			// The shipped runtime and the reference evaluator, each
			// against PyTorch.
			for _, run := range []struct {
				name string
				net  network
			}{{"runtime", nets[i]}, {"reference", referenceRunner{gs[i]}}} {
				out, err := run.net.Run(in)
				if err != nil {
					t.Fatal(err)
				}
				for k := range 3 {
					d := math.Abs(float64(out[0][k]) - m.Logits[k])
					worst = max(worst, d)
					if d > 1e-4 {
						t.Errorf("%s %s (%s): logits %v, PyTorch %v", name, models[i].Name, run.name, out[0], m.Logits)
						break
					}
				}
			}
		}
	}
	t.Logf("worst |Δlogit| %.2g over %d records", worst, len(recs))
}
