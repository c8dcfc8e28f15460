package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
