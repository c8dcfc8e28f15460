package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/gallery/gallerytest"
)

func TestSpeedEmbedded(t *testing.T) {
	var out bytes.Buffer
	if err := runSpeed([]string{"--sizes", "100,300", "--queries", "5", "--postgres", "", "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&out)
	for _, want := range []int{100, 300} {
		var r speedRow
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.Backend != "embedded" || r.Size != want || r.RecallAt10 != 1 || r.MedianMillis <= 0 || r.BytesPerMio <= 0 {
			t.Errorf("row %+v", r)
		}
	}
	if err := runSpeed([]string{"--sizes", "0"}, &out); err == nil {
		t.Error("size 0 accepted")
	}
}

func TestListPeople(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"B/B_0002.jpg", "B/B_0001.jpg", "A/A_0001.jpg", "A/notes.txt", "C/.keep"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	ps, err := listPeople(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].name != "A" || len(ps[0].images) != 1 || ps[1].images[0] != "B/B_0001.jpg" {
		t.Fatalf("%+v", ps)
	}
	if ps, _ := listPeople(dir, 1); len(ps) != 1 {
		t.Fatalf("max-people 1: %+v", ps)
	}
}

// TestRecallInputs: the recall mode's embeddings file, held-out probes and
// Gaussian identities.
func TestRecallInputs(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("# path\tstatus\tembedding\n")
	r := rand.New(rand.NewPCG(1, 2))
	people := []string{"A/A_0001.jpg", "A/A_0002.jpg", "B/B_0001.jpg", "C/C_0001.jpg", "C/C_0002.jpg", "C/C_0003.jpg"}
	for _, p := range people {
		sb.WriteString(p + "\tok\t")
		for i := range embed.Dim {
			if i > 0 {
				sb.WriteByte(' ')
			}
			fmt.Fprintf(&sb, "%g", r.NormFloat64())
		}
		sb.WriteByte('\n')
	}
	sb.WriteString("D/D_0001.jpg\tno_face\t\n")
	file := filepath.Join(dir, "emb.tsv")
	os.WriteFile(file, []byte(sb.String()), 0o644)
	byPath, err := loadRealTemplates("", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(byPath) != len(people) {
		t.Fatalf("%d templates", len(byPath))
	}
	gal, probes := holdOutProbes(r, byPath, 5, gallerytest.Model())
	// Two people have two or more images: two probes, each the person's last image.
	if len(probes) != 2 || len(gal) != len(people)-2 {
		t.Fatalf("%d probes, %d in the gallery", len(probes), len(gal))
	}
	for _, p := range probes {
		if p != byPath["A/A_0002.jpg"] && p != byPath["C/C_0003.jpg"] {
			t.Errorf("probe is not a last image")
		}
	}
	for _, g := range gal {
		if slices.Contains(probes, g) {
			t.Error("a probe is also in the gallery")
		}
	}
	g, err := newGaussian(gal)
	if err != nil {
		t.Fatal(err)
	}
	v := g.sample(r)
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if len(v) != embed.Dim || math.Abs(ss-1) > 1e-5 {
		t.Errorf("sample: %d values, norm² %v", len(v), ss)
	}
	if _, err := loadRealTemplates("", ""); err == nil {
		t.Error("no input accepted")
	}
}
