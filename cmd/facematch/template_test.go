package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/facematch/facematch"
)

func TestTemplateCommand(t *testing.T) {
	img := cliTestdata(t, "astronaut.jpg")
	code, out, errs := cliRun("template", img)
	if code != exitMatch {
		t.Fatalf("exit %d: %s", code, errs)
	}
	plain, err := facematch.ParseTemplate([]byte(strings.TrimSpace(out)))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = cliRun("template", "--json", img)
	if code != exitMatch {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var j templateOut
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Model != plain.Model.String() || j.Version != facematch.TemplateVersion {
		t.Errorf("JSON header %q v%d, template model %s", j.Model, j.Version, plain.Model)
	}
	tj, err := facematch.ParseTemplate([]byte(j.Template))
	if err != nil || tj.String() != plain.String() {
		t.Errorf("JSON template differs from the plain one (%v)", err)
	}
	if j.Face.Box.Width == 0 {
		t.Error("no face in the JSON output")
	}
	if code, out, _ := cliRun("template", "--json", cliGrayPNG(t)); code != exitError || !strings.Contains(out, `"no_face"`) {
		t.Errorf("no face: exit %d, %s", code, out)
	}
}
