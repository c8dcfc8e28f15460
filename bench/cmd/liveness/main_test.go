package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListImages(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"real/a.jpg", "real/b.png", "real/c.txt", "print/x.jpg", "screen/sub/y.jpeg", "screen/z.JPG"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := listImages(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, x := range s {
		count[x.attack]++
	}
	if count[""] != 2 || count["print"] != 1 || count["screen"] != 2 || len(s) != 5 {
		t.Errorf("counts %v", count)
	}
	if s, _ := listImages(dir, 2); len(s) != 3 { // a.jpg; x.jpg; one of screen's two
		t.Errorf("--every 2: %d images", len(s))
	}
	if err := os.RemoveAll(filepath.Join(dir, "real")); err != nil {
		t.Fatal(err)
	}
	if _, err := listImages(dir, 1); err == nil {
		t.Error("no real/ folder accepted")
	}
}

func TestRunFromScores(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.tsv")
	tsv := "path\tclass\tscore\nr1\treal\t0.9\nr2\treal\t0.3\np1\tprint\t0.1\np2\tprint\t-1\ns1\tscreen\t0.7\n"
	if err := os.WriteFile(p, []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--from-scores", p, "--threshold", "0.5", "--json"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"apcer", "bpcer", "acer", "auc", "images"} {
		if _, ok := r[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	// 1 of 3 attacks accepted, 1 of 2 live rejected; a live image outscores
	// an attack in 5 of the 6 pairs (0.3 < 0.7).
	if r["apcer"].(float64) != 1.0/3 || r["bpcer"].(float64) != 0.5 || r["images"].(float64) != 5 || r["no_face"].(float64) != 1 {
		t.Errorf("report %v", r)
	}
	if want := 5.0 / 6; r["auc"].(float64) != want {
		t.Errorf("auc %v, want %v", r["auc"], want)
	}
	out.Reset()
	if err := run(context.Background(), []string{"--from-scores", p}, &out, &errb); err != nil || !strings.Contains(out.String(), "screen") {
		t.Errorf("text report: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"--threshold", "2", "--data", "x"}, &out, &errb); err == nil {
		t.Error("threshold 2 accepted")
	}
}
