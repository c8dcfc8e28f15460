package main

import (
	"bytes"
	"encoding/json"
	"image"
	"strings"
	"testing"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/detect"
)

// TestJSONOrientation: the --json output carries each face's quarter turn
// and, for compare, each image's correction.
func TestJSONOrientation(t *testing.T) {
	f := detect.Face{Box: image.Rect(-5, 10, 95, 110), Score: 20, Orientation: 90}
	res := &facematch.Result{Threshold: 0.7, Images: [2]facematch.ImageFaces{
		{Width: 100, Height: 120, Faces: []detect.Face{{Box: image.Rect(0, 0, 50, 50)}}},
		{Width: 120, Height: 100, Faces: []detect.Face{f}, Orientation: 90},
	}}
	var buf bytes.Buffer
	writeJSON(&buf, compareResultJSON(res, []string{"a.jpg", "b.jpg"}, false, ""))
	var out struct {
		Faces [2]struct {
			Orientation *int `json:"orientation"`
			Boxes       []jsonBox
		} `json:"faces"`
	}
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 90} {
		if o := out.Faces[i].Orientation; o == nil || *o != want {
			t.Errorf("image%d orientation %v, want %d in %s", i+1, o, want, buf.String())
		}
	}
	if b := out.Faces[1].Boxes[0]; b.X != -5 || b.Width != 100 {
		t.Errorf("box across the frame reported as %+v", b)
	}
	var jf map[string]any
	buf.Reset()
	writeJSON(&buf, toJSONFace(f))
	if err := json.Unmarshal(buf.Bytes(), &jf); err != nil {
		t.Fatal(err)
	}
	if jf["orientation"] != 90.0 {
		t.Errorf("face orientation %v, want 90 in %s", jf["orientation"], buf.String())
	}
}

// TestDescribeFaceTurned: the text output says when a face lay turned.
func TestDescribeFaceTurned(t *testing.T) {
	f := detect.Face{Box: image.Rect(0, 0, 10, 10)}
	if s := describeFace(f); strings.Contains(s, "turned") {
		t.Errorf("upright face described as turned: %q", s)
	}
	f.Orientation = 270
	if s := describeFace(f); !strings.Contains(s, "turned 270°") {
		t.Errorf("face turned 270°: %q", s)
	}
}
