package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestGalleryCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "faces.db")
	astronaut, moved, hopper := cliTestdata(t, "astronaut.jpg"), cliTestdata(t, "astronaut_moved.jpg"), cliTestdata(t, "hopper.jpg")
	steps := []struct {
		args []string
		code int
		out  string // substring of stdout
	}{
		{[]string{"count", "--gallery", db}, exitMatch, "0"},
		{[]string{"enroll", "--gallery", db, "--unique", "astronaut", astronaut}, exitMatch, `enrolled "astronaut"`},
		{[]string{"enroll", "--gallery", db, "--unique", "--json", "impostor", moved}, exitNoMatch, `"duplicate":{"id":"astronaut"`},
		{[]string{"enroll", "--gallery", db, "--json", "astronaut", hopper}, exitError, `"id_exists"`},
		{[]string{"enroll", "--gallery", db, "--unique", "hopper", hopper}, exitMatch, `enrolled "hopper"`},
		{[]string{"count", "--gallery", db, "--json"}, exitMatch, `{"count":2}`},
		{[]string{"search", "--gallery", db, "--json", "--k", "1", moved}, exitMatch, `"id":"astronaut"`},
		{[]string{"search", "--gallery", db, "--min", "70", moved}, exitMatch, "\tastronaut\n"},
		{[]string{"search", "--gallery", db, "--k", "-1", moved}, exitError, ""},
		{[]string{"remove", "--gallery", db, "astronaut", "nobody"}, exitMatch, "removed 1"},
		{[]string{"count", "--gallery", db}, exitMatch, "1"},
		{[]string{"frobnicate", "--gallery", db}, exitError, ""},
		{[]string{"count"}, exitError, ""},
		{[]string{"enroll", "--gallery", db, "only-an-id"}, exitError, ""},
	}
	for _, s := range steps {
		code, out, errs := cliRun(append([]string{"gallery"}, s.args...)...)
		if code != s.code || !strings.Contains(out, s.out) {
			t.Fatalf("gallery %v: exit %d, stdout %q, stderr %q; want exit %d and %q", s.args, code, out, errs, s.code, s.out)
		}
	}
	// A template from the template command enrolls and searches the same.
	_, tmpl, _ := cliRun("template", astronaut)
	tmpl = strings.TrimSpace(tmpl)
	if code, out, errs := cliRun("gallery", "enroll", "--gallery", db, "--template", tmpl, "astronaut"); code != exitMatch {
		t.Fatalf("enroll --template: %d %s %s", code, out, errs)
	}
	code, out, _ := cliRun("gallery", "search", "--gallery", db, "--json", "--template", tmpl)
	var res struct {
		Matches []galleryMatchJSON `json:"matches"`
	}
	if code != exitMatch || json.Unmarshal([]byte(out), &res) != nil || len(res.Matches) != 2 || res.Matches[0].ID != "astronaut" || res.Matches[0].Similarity < 0.9999 {
		t.Fatalf("search --template: %d %s", code, out)
	}
	if code, out, _ := cliRun("gallery", "search", "--gallery", db, "--json", "--template", "bm90IGEgdGVtcGxhdGU="); code != exitError || !strings.Contains(out, `"invalid_template"`) {
		t.Fatalf("bad template: %d %s", code, out)
	}
}
