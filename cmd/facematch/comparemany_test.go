package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCompareManyCommand(t *testing.T) {
	a, moved, hopper := cliTestdata(t, "astronaut.jpg"), cliTestdata(t, "astronaut_moved.jpg"), cliTestdata(t, "hopper.jpg")
	gray := cliGrayPNG(t)
	code, out, errs := cliRun("compare", "--json", a, hopper, gray, moved)
	if code != exitMatch {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	var res compareManyJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 3 || res.Best != 4 || !res.Match || res.Results[0].Match || res.Results[1].Error == nil ||
		res.Results[1].Error.Code != "no_face" || res.Results[1].Error.Image != 3 || !res.Results[2].Match {
		t.Fatalf("unexpected answer: %s", out)
	}
	// The pair's own answer is the two-image answer.
	_, two, _ := cliRun("compare", "--json", a, moved)
	var pair compareJSON
	if err := json.Unmarshal([]byte(two), &pair); err != nil {
		t.Fatal(err)
	}
	if pair.Percentage != res.Results[2].Percentage {
		t.Errorf("compare A C gives %v, compare A B C D gives %v for C", pair.Percentage, res.Results[2].Percentage)
	}
	code, out, _ = cliRun("compare", a, hopper, gray)
	if code != exitNoMatch || !strings.Contains(out, "image3") || !strings.Contains(out, "ERROR") {
		t.Fatalf("text, no match: exit %d: %s", code, out)
	}
	args := []string{"compare", a}
	for range 10 {
		args = append(args, hopper)
	}
	if code, _, _ := cliRun(args...); code != exitError {
		t.Errorf("11 images: exit %d", code)
	}
}

// TestCompareManyOptions: the face-policy options reach every candidate.
func TestCompareManyOptions(t *testing.T) {
	a, moved, hopper := cliTestdata(t, "astronaut.jpg"), cliTestdata(t, "astronaut_moved.jpg"), cliTestdata(t, "hopper.jpg")
	if code, _, _ := cliRun("compare", "--single-face", "--best-face", a, hopper, moved); code != exitError {
		t.Errorf("--single-face with --best-face: exit %d", code)
	}
	code, out, errs := cliRun("compare", "--json", "--liveness", a, hopper, moved)
	if code != exitMatch && code != exitNoMatch {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	var res compareManyJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Results {
		if r.Liveness == nil {
			t.Errorf("image%d: no liveness with --liveness", r.Image)
		}
	}
	if want := res.Match && res.Results[res.Best-2].Liveness.Live; (code == exitMatch) != want {
		t.Errorf("exit %d, best matches and is live: %v", code, want)
	}
}
