package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
)

func TestLivenessCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		live bool
	}{{"image_T1.jpg", exitMatch, true}, {"image_F2.jpg", exitNoMatch, false}} {
		p := sharedtest.Path(t, "models", "minifasnet", "samples", tc.name)
		code, out, errb := cliRun("liveness", "--json", p)
		if code != tc.code {
			t.Fatalf("%s: exit %d, want %d (%s)", tc.name, code, tc.code, errb)
		}
		var j map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("%s: %v: %s", tc.name, err, out)
		}
		for _, k := range []string{"live", "score", "threshold", "face", "models"} {
			if _, ok := j[k]; !ok {
				t.Errorf("%s: key %q missing in %s", tc.name, k, out)
			}
		}
		var v struct {
			Live  bool
			Score float64
			Face  struct{ Box struct{ Width int } }
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil || v.Live != tc.live || v.Score < 0 || v.Score > 1 || v.Face.Box.Width == 0 {
			t.Errorf("%s: %+v (%v)", tc.name, v, err)
		}
		code, out, _ = cliRun("liveness", p)
		if code != tc.code || !strings.Contains(out, map[bool]string{true: "LIVE", false: "ATTACK"}[tc.live]) {
			t.Errorf("%s text: exit %d, %q", tc.name, code, out)
		}
	}
}

func TestLivenessCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code string
	}{
		{[]string{"liveness", "--json"}, "usage"},
		{[]string{"liveness", "--json", "--threshold", "1.5", cliTestdata(t, "astronaut.jpg")}, "usage"},
		{[]string{"liveness", "--json", "missing.jpg"}, "file_not_found"},
		{[]string{"liveness", "--json", cliGrayPNG(t)}, "no_face"},
	} {
		code, out, _ := cliRun(tc.args...)
		var e struct{ Error struct{ Code string } }
		if code != exitError || json.Unmarshal([]byte(out), &e) != nil || e.Error.Code != tc.code {
			t.Errorf("%v: exit %d, %s; want exit 2, code %s", tc.args, code, out, tc.code)
		}
	}
}

func TestCompareLivenessFlag(t *testing.T) {
	live := sharedtest.Path(t, "models", "minifasnet", "samples", "image_T1.jpg")
	code, out, errb := cliRun("compare", "--json", "--liveness", live, live)
	var v struct {
		Match    bool
		Liveness *struct {
			Live  bool
			Score float64
		}
	}
	if code != exitMatch || json.Unmarshal([]byte(out), &v) != nil || !v.Match || v.Liveness == nil || !v.Liveness.Live {
		t.Fatalf("exit %d, %s %s", code, out, errb)
	}
	code, out, _ = cliRun("compare", "--json", live, live)
	if code != exitMatch || strings.Contains(out, `"liveness"`) {
		t.Errorf("without --liveness: exit %d, %s", code, out)
	}
}
