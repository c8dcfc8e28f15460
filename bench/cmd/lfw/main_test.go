package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScores writes a scores file of 10 folds x (20 genuine + 20 impostor)
// pairs: genuine cosines 0.50..0.69, impostor 0.00..0.19, except that in
// fold 10 one genuine pair had no face (-1).
func writeScores(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# path1\tpath2\tsame\tfold\tcosine\tno_face\n")
	for f := 1; f <= 10; f++ {
		for i := 0; i < 20; i++ {
			cos, nf := 0.5+float64(i)/100, 0
			if f == 10 && i == 0 {
				cos, nf = -1, 1
			}
			fmt.Fprintf(&b, "g%d_%d/a.jpg\tg%d_%d/b.jpg\t1\t%d\t%g\t%d\n", f, i, f, i, f, cos, nf)
			fmt.Fprintf(&b, "i%d_%d/a.jpg\ti%d_%d/b.jpg\t0\t%d\t%g\t0\n", f, i, f, i, f, float64(i)/100)
		}
	}
	p := filepath.Join(t.TempDir(), "scores.tsv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromScoresJSON(t *testing.T) {
	scores := writeScores(t)
	roc := filepath.Join(t.TempDir(), "roc.png")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--from-scores", scores, "--json", "--roc", roc, "--roc-compare", scores}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, k := range []string{"pairs", "accuracy", "accuracy_std", "auc", "tar_at_far_1e-2", "tar_at_far_1e-3", "no_face", "calibration"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if r["pairs"].(float64) != 400 || r["folds"].(float64) != 10 {
		t.Errorf("pairs %v folds %v, want 400 and 10", r["pairs"], r["folds"])
	}
	// Nine perfect folds, fold 10 loses 1 of 40 pairs.
	if want := (9 + 39.0/40) / 10; math.Abs(r["accuracy"].(float64)-want) > 1e-12 {
		t.Errorf("accuracy %v, want %v", r["accuracy"], want)
	}
	if want := 199.0 / 200; r["tar_at_far_1e-3"].(float64) != want {
		t.Errorf("TAR@1e-3 %v, want %v", r["tar_at_far_1e-3"], want)
	}
	if r["no_face_pairs"].(float64) != 1 || r["no_face"].(float64) != 1 || r["images"].(float64) != 800 {
		t.Errorf("no_face_pairs %v no_face %v images %v, want 1, 1 and 800", r["no_face_pairs"], r["no_face"], r["images"])
	}
	if st, err := os.Stat(roc); err != nil || st.Size() < 1000 {
		t.Errorf("ROC plot: %v", err)
	}

	out.Reset()
	if err := run(context.Background(), []string{"--from-scores", scores, "--folds", "2"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pairs            80 (40 genuine, 40 impostor), 2 folds, 160 images", "accuracy         100.00% ± 0.00", "calibration"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--folds", "-1"},
		{"--workers", "0"},
		{"extra"},
		{"--nope"},
		{"--from-scores", filepath.Join(t.TempDir(), "missing.tsv")},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &out, &errb); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "--landmarks") && !strings.Contains(errb.String(), "-landmarks") {
		t.Errorf("-h: %v\n%s", err, errb.String())
	}
}

// TestSeveralListsAndFailedImage runs the pipeline on two small lists built
// from the module's testdata: the second holds a BMP named .jpg, which must
// be reported as a failed image with its reason, not stop the run.
func TestSeveralListsAndFailedImage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the full pipeline")
	}
	dir := t.TempDir()
	for _, name := range []string{"astronaut.jpg", "astronaut_moved.jpg"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The 54-byte header of a 1x1 BMP and one pixel: not JPEG or PNG.
	bmp := []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x18\x00\x00\x00\x00\x00\x04\x00\x00\x00\x13\x0b\x00\x00\x13\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\x00\x00\x00")
	if err := os.WriteFile(filepath.Join(dir, "fake.jpg"), bmp, 0o644); err != nil {
		t.Fatal(err)
	}
	l1, l2 := filepath.Join(dir, "one.tsv"), filepath.Join(dir, "two.tsv")
	os.WriteFile(l1, []byte("astronaut.jpg\tastronaut_moved.jpg\t1\nastronaut.jpg\tastronaut_moved.jpg\t0\n"), 0o644)
	os.WriteFile(l2, []byte("astronaut.jpg\tastronaut_moved.jpg\t1\nastronaut.jpg\tfake.jpg\t0\n"), 0o644)
	emb1, emb2 := filepath.Join(dir, "e1.tsv"), filepath.Join(dir, "e2.tsv")
	var out, errb bytes.Buffer
	args := []string{"--data", dir, "--pairs", l1, "--pairs", l2, "--embeddings", emb1, "--embeddings", emb2, "--json", "--workers", "1"}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var r struct {
		Lists []struct {
			Name         string                          `json:"name"`
			Accuracy     float64                         `json:"accuracy"`
			Failed       int                             `json:"failed"`
			FailedImages []struct{ Path, Reason string } `json:"failed_images"`
			Calibration  []map[string]any                `json:"calibration"`
		} `json:"lists"`
		Pooled struct {
			Pairs       int              `json:"pairs"`
			Failed      int              `json:"failed"`
			Calibration []map[string]any `json:"calibration"`
		} `json:"pooled"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(r.Lists) != 2 || r.Pooled.Pairs != 4 || r.Pooled.Failed != 1 || len(r.Pooled.Calibration) != 4 {
		t.Fatalf("JSON: %+v", r)
	}
	if r.Lists[0].Failed != 0 || r.Lists[1].Failed != 1 || len(r.Lists[1].FailedImages) != 1 || r.Lists[1].FailedImages[0].Path != "fake.jpg" || r.Lists[1].FailedImages[0].Reason == "" {
		t.Errorf("failed images: %+v", r.Lists)
	}
	if st, err := os.Stat(emb2); err != nil || st.Size() < 1000 {
		t.Errorf("embeddings file: %v", err)
	}
	// The text form prints each list, the pooled table and the per-list FAR.
	out.Reset()
	if err := run(context.Background(), []string{"--data", dir, "--pairs", l1, "--pairs", l2, "--workers", "1"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== " + filepath.Base(dir), "== pooled: 2 lists", "per list", "fake.jpg: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSeveralScoresFiles(t *testing.T) {
	scores := writeScores(t)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--from-scores", scores, "--from-scores", scores, "--json"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	pooled := r["pooled"].(map[string]any)
	if pooled["pairs"].(float64) != 800 || pooled["folds"].(float64) != 20 || len(r["lists"].([]any)) != 2 {
		t.Errorf("pooled %v folds %v lists %d", pooled["pairs"], pooled["folds"], len(r["lists"].([]any)))
	}
	for _, args := range [][]string{
		{"--from-scores", scores, "--pairs", scores},
		{"--pairs", "a", "--pairs", "b", "--scores", "x"},
		{"--data", "a", "--data", "b", "--data", "c", "--pairs", "a", "--pairs", "b"},
	} {
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
