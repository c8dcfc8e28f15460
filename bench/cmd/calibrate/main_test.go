package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facematch/facematch/compare"
)

// writeSet writes an embeddings file and a pair list for a synthetic set of
// ids identities x 4 images in dim dimensions: each identity has a random
// direction, each image adds noise, and every face of the set shares the
// offset bias (the demographic direction the normalisation must remove).
func writeSet(t *testing.T, dir, name string, ids, dim int, bias []float64, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var emb, pairs strings.Builder
	emb.WriteString("# path\tstatus\tembedding\n")
	for i := 0; i < ids; i++ {
		c := make([]float64, dim)
		for k := range c {
			c[k] = rng.NormFloat64()
		}
		for j := 0; j < 4; j++ {
			v := make([]float64, dim)
			for k := range v {
				v[k] = c[k]/math.Sqrt(float64(dim)) + 0.35*rng.NormFloat64()/math.Sqrt(float64(dim)) + bias[k]
			}
			u := unit(v)
			fmt.Fprintf(&emb, "p%d/%d.jpg\tok\t", i, j)
			for k, x := range u {
				if k > 0 {
					emb.WriteByte(' ')
				}
				fmt.Fprintf(&emb, "%g", float32(x))
			}
			emb.WriteByte('\n')
		}
		fmt.Fprintf(&pairs, "p%d/0.jpg\tp%d/1.jpg\t1\t%d\n", i, i, i%2+1)
		fmt.Fprintf(&pairs, "p%d/2.jpg\tp%d/3.jpg\t1\t%d\n", i, i, i%2+1)
		// Impostors within the same fold keep the folds identity-disjoint.
		o := (i + 2) % ids
		fmt.Fprintf(&pairs, "p%d/0.jpg\tp%d/2.jpg\t0\t%d\n", i, o, i%2+1)
		fmt.Fprintf(&pairs, "p%d/1.jpg\tp%d/3.jpg\t0\t%d\n", i, o, i%2+1)
	}
	// One image without a face.
	fmt.Fprintf(&emb, "p0/9.jpg\tno_face\t\n")
	fmt.Fprintf(&pairs, "p0/0.jpg\tp0/9.jpg\t1\t1\n")
	ef, pf := filepath.Join(dir, name+"-emb.tsv"), filepath.Join(dir, name+"-pairs.tsv")
	if err := os.WriteFile(ef, []byte(emb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf, []byte(pairs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return name + "=" + ef + "," + pf
}

func TestResearchAndWrite(t *testing.T) {
	dir := t.TempDir()
	const dim = 16
	none, biased := make([]float64, dim), make([]float64, dim)
	biased[0] = 0.6 // a strong shared direction: raw impostor cosines run high
	lfw := writeSet(t, dir, "lfw", 40, dim, none, 1)
	east := writeSet(t, dir, "east", 20, dim, biased, 2)
	out := filepath.Join(dir, "calibration.json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"--set", lfw, "--set", east, "--research", "--only", "centre: set", "--write", "--out", out}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	for _, want := range []string{"identity halves", "set left out", "goal threshold", "held out:", "| 0.70 |"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := compare.LoadModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Normalizer.Mean) != dim || len(m.Normalizer.Remove) != adoptedDrop || !strings.Contains(m.Source.Command, "--set lfw=") || len(m.Source.Data) != 2 {
		t.Errorf("model: %+v", m)
	}
	// The shared direction is what the set-balanced mean removes: the mean
	// points mostly along it.
	if m.Normalizer.Mean[0] < 0.1 {
		t.Errorf("mean[0] = %v, want the biased set's direction", m.Normalizer.Mean[0])
	}
	// The same inputs give the byte-identical file.
	if err := run([]string{"--set", lfw, "--set", east, "--write", "--out", out + "2"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(out + "2"); !bytes.Equal(again, data) {
		t.Error("refit is not byte-identical")
	}
	for _, args := range [][]string{{}, {"--set", "nope"}, {"--set", "x=" + filepath.Join(dir, "missing") + ",y"}} {
		if err := run(args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
