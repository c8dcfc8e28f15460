package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
)

// cliRun runs the CLI in-process and returns exit status, stdout, stderr.
func cliRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// cliTestdata is the module's testdata folder (generated photos).
func cliTestdata(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "testdata", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("missing %s", p)
	}
	return p
}

func cliGrayPNG(t *testing.T) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 200, 160))
	for i := range img.Pix {
		img.Pix[i] = 100
	}
	p := filepath.Join(t.TempDir(), "gray.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		stdout  string
		stderr  string
		noStdio bool
	}{
		{args: nil, code: 2, stderr: "usage: facematch"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"help"}, code: 0, stdout: "compare"},
		{args: []string{"--help"}, code: 0, stdout: "detect"},
		{args: []string{"compare", "-h"}, code: 0, stderr: "usage: facematch compare"},
		{args: []string{"help", "embed"}, code: 0, stderr: "--aligned"},
	}
	for _, tt := range tests {
		code, out, errs := cliRun(tt.args...)
		if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
			t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s", tt.args, code, out, errs)
		}
	}
	for _, name := range []string{"compare", "embed", "detect"} {
		if commands[name].run == nil || commands[name].summary == "" {
			t.Errorf("command %q not registered", name)
		}
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		json bool
		th   float64
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, false, 0.7},
		{[]string{"--json", "a", "b"}, []string{"a", "b"}, true, 0.7},
		{[]string{"a", "b", "--json", "--threshold", "0.8"}, []string{"a", "b"}, true, 0.8},
		{[]string{"a", "--threshold=0.9", "b"}, []string{"a", "b"}, false, 0.9},
		{[]string{"-json", "--", "-a", "--json"}, []string{"-a", "--json"}, true, 0.7},
	}
	for _, tt := range tests {
		fs := newFlagSet("t", "t", &bytes.Buffer{})
		j := fs.Bool("json", false, "")
		th := fs.Float64("threshold", 0.7, "")
		pos, err := parseArgs(fs, tt.args)
		if err != nil || strings.Join(pos, "|") != strings.Join(tt.pos, "|") || *j != tt.json || *th != tt.th {
			t.Errorf("parseArgs(%q) = %q, json %v, threshold %v, %v", tt.args, pos, *j, *th, err)
		}
	}
}

type cliCompareOut struct {
	Match          *bool    `json:"match"`
	Percentage     *float64 `json:"percentage"`
	PercentageText string   `json:"percentage_text"`
	Similarity     *float64 `json:"similarity"`
	Threshold      *float64 `json:"threshold"`
	MultipleFaces  *bool    `json:"multiple_faces"`
	FacePolicy     string   `json:"face_policy"`
	Faces          []struct {
		FaceCount int             `json:"face_count"`
		Count     int             `json:"count"`
		Used      int             `json:"used"`
		Boxes     []jsonBox       `json:"boxes"`
		Landmarks [][5][2]float64 `json:"landmarks"`
		Scores    []float64       `json:"scores"`
	} `json:"faces"`
	Error *jsonError `json:"error"`
}

func decodeCompare(t *testing.T, out string) cliCompareOut {
	t.Helper()
	var v cliCompareOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("JSON output spans several lines:\n%s", out)
	}
	return v
}

func TestCompareCommand(t *testing.T) {
	a, moved, hopper := cliTestdata(t, "astronaut.jpg"), cliTestdata(t, "astronaut_moved.jpg"), cliTestdata(t, "hopper.jpg")
	t.Run("human match", func(t *testing.T) {
		code, out, errs := cliRun("compare", a, moved)
		if code != 0 || !strings.HasPrefix(out, "MATCH: ") || !strings.Contains(out, "%") || errs != "" {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
	})
	t.Run("human no match", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short")
		}
		code, out, _ := cliRun("compare", a, hopper)
		if code != 1 || !strings.HasPrefix(out, "NO MATCH: ") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("json, flags after the images", func(t *testing.T) {
		code, out, _ := cliRun("compare", a, moved, "--json", "--threshold", "0.9")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		v := decodeCompare(t, out)
		if v.Match == nil || !*v.Match || v.Percentage == nil || v.Similarity == nil || v.Threshold == nil || *v.Threshold != 0.9 {
			t.Fatalf("bad JSON: %s", out)
		}
		if *v.Percentage < 90 || *v.Percentage > 100 || *v.Similarity < 0.5 || !strings.HasSuffix(v.PercentageText, "%") {
			t.Errorf("percentage %v similarity %v", *v.Percentage, *v.Similarity)
		}
		if len(v.Faces) != 2 {
			t.Fatalf("faces: %d images", len(v.Faces))
		}
		for i, f := range v.Faces {
			if f.Count < 1 || len(f.Boxes) != f.Count || len(f.Landmarks) != f.Count || len(f.Scores) != f.Count || f.Used >= f.Count {
				t.Errorf("image%d: %+v", i+1, f)
			}
			lm := f.Landmarks[f.Used]
			if !(lm[0][0] < lm[1][0]) {
				t.Errorf("image%d: left eye x %v not left of right eye x %v", i+1, lm[0][0], lm[1][0])
			}
		}
	})
	t.Run("json no match", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short")
		}
		code, out, _ := cliRun("compare", "--json", a, hopper)
		v := decodeCompare(t, out)
		if code != 1 || v.Match == nil || *v.Match {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("annotate", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short")
		}
		p := filepath.Join(t.TempDir(), "out.png")
		code, out, errs := cliRun("compare", "--annotate", p, a, moved)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		// Two ~400 px panels side by side above the crops and text.
		if b := img.Bounds(); b.Dx() < 700 || b.Dy() < 400+cropSide {
			t.Fatalf("annotation is %v", b)
		}
		// The verdict colour is drawn (the compared face's box and crop frames).
		found := false
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y && !found; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r>>8 == uint32(colMatch.R) && g>>8 == uint32(colMatch.G) && bl>>8 == uint32(colMatch.B) {
					found = true
					break
				}
			}
		}
		if !found {
			t.Error("no match-coloured pixels in the annotation")
		}
	})
	t.Run("URL", func(t *testing.T) {
		data, err := os.ReadFile(moved)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
		defer srv.Close()
		code, out, errs := cliRun("compare", "--allow-private-urls", a, srv.URL+"/moved.jpg")
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		code, out, _ = cliRun("compare", "--json", a, srv.URL+"/moved.jpg")
		v := decodeCompare(t, out)
		if code != 2 || v.Error == nil || v.Error.Code != "forbidden_url" || v.Error.Image != 2 {
			t.Fatalf("loopback URL without --allow-private-urls: exit %d %s", code, out)
		}
		if !strings.Contains(v.Error.Message, "--allow-private-urls") {
			t.Errorf("the forbidden-URL error does not name the flag that allows it: %s", v.Error.Message)
		}
	})
}

func TestCompareCommandErrors(t *testing.T) {
	a := cliTestdata(t, "astronaut.jpg")
	dir := t.TempDir()
	gif := filepath.Join(dir, "x.gif")
	os.WriteFile(gif, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 0o644)
	empty := filepath.Join(dir, "empty.jpg")
	os.WriteFile(empty, nil, 0o644)
	gray := cliGrayPNG(t)
	tests := []struct {
		name  string
		args  []string
		code  string
		image int
	}{
		{"one image", []string{a}, "usage", 0},
		{"eleven images", []string{a, a, a, a, a, a, a, a, a, a, a}, "usage", 0}, // more than image1 + MaxCandidates
		{"unknown flag", []string{"--bogus", a, a}, "usage", 0},
		{"bad threshold value", []string{"--threshold", "high", a, a}, "usage", 0},
		{"threshold too low", []string{"--threshold", "0.5", a, a}, "invalid_threshold", 0},
		{"threshold too high", []string{a, a, "--threshold=0.99"}, "invalid_threshold", 0},
		{"missing file", []string{a, filepath.Join(dir, "nope.jpg")}, "file_not_found", 2},
		{"GIF", []string{gif, a}, "unsupported_format", 1},
		{"empty file", []string{a, empty}, "corrupt_image", 2},
		{"no face", []string{a, gray}, "no_face", 2},
		{"ftp URL", []string{"ftp://example.com/a.jpg", a}, "invalid_url", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"compare", "--json"}, tt.args...)
			code, out, errs := cliRun(args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, out)
			}
			if !strings.HasPrefix(errs, "facematch: ") && !strings.Contains(errs, "\nfacematch: ") {
				t.Errorf("stderr %q", errs)
			}
			v := decodeCompare(t, out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
			if v.Error == nil || v.Error.Code != tt.code || v.Error.Message == "" || v.Error.Image != tt.image {
				t.Fatalf("error JSON %s, want code %q image %d", out, tt.code, tt.image)
			}
			if v.Match != nil {
				t.Errorf("error output has a verdict: %s", out)
			}
			// Without --json: message on stderr, nothing on stdout.
			code, out, errs = cliRun(append([]string{"compare"}, tt.args...)...)
			if code != 2 || out != "" || errs == "" {
				t.Errorf("without --json: exit %d stdout %q stderr %q", code, out, errs)
			}
		})
	}
}

func TestEmbedCommand(t *testing.T) {
	a := cliTestdata(t, "astronaut.jpg")
	code, out, errs := cliRun("embed", a, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var v struct {
		Embedding []float64 `json:"embedding"`
		Dim       int       `json:"dim"`
		Model     string    `json:"model"`
		Face      *jsonFace `json:"face"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, x := range v.Embedding {
		n += x * x
	}
	if v.Dim != 192 || len(v.Embedding) != v.Dim || v.Model == "" || v.Face == nil || math.Abs(n-1) > 1e-4 {
		t.Fatalf("dim %d, %d values, norm² %v, model %q, face %v", v.Dim, len(v.Embedding), n, v.Model, v.Face)
	}
	if testing.Short() {
		return
	}
	// Human output: the same numbers, space separated.
	code, human, _ := cliRun("embed", a)
	if code != 0 || len(strings.Fields(human)) != 192 {
		t.Fatalf("human output: exit %d, %d fields", code, len(strings.Fields(human)))
	}
	// --aligned refuses a non-112x112 image.
	code, out, _ = cliRun("embed", "--aligned", "--json", a)
	if code != 2 || !strings.Contains(out, `"code":"not_aligned"`) {
		t.Fatalf("--aligned on 400x400: exit %d %s", code, out)
	}
	// No face.
	code, out, _ = cliRun("embed", "--json", cliGrayPNG(t))
	if code != 2 || !strings.Contains(out, `"code":"no_face"`) {
		t.Fatalf("gray image: exit %d %s", code, out)
	}
}

func TestEmbedAlignedGolden(t *testing.T) {
	dir := sharedtest.Path(t, "golden", "mobilefacenet")
	code, out, errs := cliRun("embed", "--aligned", "--json", filepath.Join(dir, "Akhmed_Zakayev_0001.png"))
	if code != 0 {
		t.Fatalf("exit %d %s %s", code, out, errs)
	}
	var v struct {
		Embedding []float64 `json:"embedding"`
	}
	json.Unmarshal([]byte(out), &v)
	b, err := os.ReadFile(filepath.Join(dir, "Akhmed_Zakayev_0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Flip []float64 `json:"flip_tta_l2normalized"`
	}
	json.Unmarshal(b, &g)
	var dot float64
	for i := range g.Flip {
		dot += g.Flip[i] * v.Embedding[i]
	}
	if dot < 0.9999 {
		t.Fatalf("cosine to the TFLite reference %v", dot)
	}
}

func TestDetectCommand(t *testing.T) {
	code, out, errs := cliRun("detect", "--json", cliTestdata(t, "astronaut.jpg"))
	if code != 0 {
		t.Fatalf("exit %d %s %s", code, out, errs)
	}
	var v detectJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Count != 1 || len(v.Faces) != 1 || v.Width != 400 || v.Height != 400 {
		t.Fatalf("%+v", v)
	}
	f := v.Faces[0]
	for i, p := range f.Landmarks {
		if p[0] < float64(f.Box.X) || p[0] > float64(f.Box.X+f.Box.Width) || p[1] < float64(f.Box.Y) || p[1] > float64(f.Box.Y+f.Box.Height) {
			t.Errorf("landmark %d %v outside box %+v", i, p, f.Box)
		}
	}
	code, out, _ = cliRun("detect", cliGrayPNG(t))
	if code != 0 || !strings.Contains(out, "0 face(s)") {
		t.Fatalf("gray: exit %d %s", code, out)
	}
	if testing.Short() {
		return
	}
	code, out, _ = cliRun("detect", "--json", sharedtest.Path(t, "fixtures", "obama_biden_two_faces.jpg"))
	json.Unmarshal([]byte(out), &v)
	if code != 0 || v.Count != 2 {
		t.Fatalf("two faces: exit %d, count %d", code, v.Count)
	}
}

// TestCompareSharedFixtures runs the README-style comparisons on the real
// photos in ../shared.
func TestCompareSharedFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("large photos")
	}
	obama := sharedtest.Path(t, "fixtures", "obama_portrait_2012.jpg")
	tests := []struct {
		other string
		code  int
	}{
		{"obama_congress_2009.jpg", 0},
		{"biden_blue_room_2010.jpg", 1},
	}
	for _, tt := range tests {
		code, out, errs := cliRun("compare", obama, sharedtest.Path(t, "fixtures", tt.other))
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tt.other, code, tt.code, out, errs)
		}
	}
}
