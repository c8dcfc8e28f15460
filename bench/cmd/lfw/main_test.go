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
