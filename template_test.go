package facematch

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/facematch/facematch/embed"
)

// unitTemplate returns a deterministic template of model with a unit vector.
func unitTemplate(model ModelID, seed int) *Template {
	v := make([]float32, embed.Dim)
	var ss float64
	for i := range v {
		v[i] = float32(math.Sin(float64(seed*embed.Dim + i + 1)))
		ss += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(ss))
	}
	return &Template{Model: model, Vector: v}
}

func TestTemplateMatchesCompare(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	for _, pair := range [][2]string{{"astronaut.jpg", "astronaut_moved.jpg"}, {"astronaut.jpg", "hopper.jpg"}} {
		a, err := m.Template(ctx, File(testdata(t, pair[0])))
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.Template(ctx, File(testdata(t, pair[1])))
		if err != nil {
			t.Fatal(err)
		}
		if a.Model != m.ModelID() {
			t.Errorf("template model %s, matcher %s", a.Model, m.ModelID())
		}
		// Through the wire format, as a gallery or a client would hold them.
		a2, err := ParseTemplate([]byte(a.String()))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := m.CompareTemplates(a2, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Compare(ctx, File(testdata(t, pair[0])), File(testdata(t, pair[1])), nil)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Percentage != res.Percentage || tr.Similarity != res.Similarity || tr.Match != res.Match {
			t.Errorf("%v: templates give %v %.17g, Compare %v %.17g", pair, tr.Match, tr.Percentage, res.Match, res.Percentage)
		}
	}
}

func TestTemplateNoFace(t *testing.T) {
	m := newTestMatcher(t)
	if _, err := m.Template(context.Background(), File(fixture(t, "noface_coffee.png"))); !errors.Is(err, ErrNoFace) {
		t.Fatalf("got %v, want ErrNoFace", err)
	}
}

func TestTemplateEncoding(t *testing.T) {
	model := modelID(nil)
	tp := unitTemplate(model, 1)
	b, err := tp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != TemplateSize {
		t.Fatalf("%d bytes, want %d", len(b), TemplateSize)
	}
	for _, in := range [][]byte{b, []byte(tp.String())} {
		got, err := ParseTemplate(in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Model != model || !equalFloats(got.Vector, tp.Vector) {
			t.Fatal("round trip changed the template")
		}
	}
	js, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	var back Template
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Model != model || !equalFloats(back.Vector, tp.Vector) {
		t.Fatal("JSON round trip changed the template")
	}

	bad := func(f func(b []byte) []byte) []byte { c := append([]byte(nil), b...); return f(c) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"garbage", []byte("hello, world")},
		{"bad magic", bad(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"future version", bad(func(b []byte) []byte { b[4] = TemplateVersion + 1; return b })},
		{"other length", bad(func(b []byte) []byte { b[5] = 128; return b })},
		{"truncated", b[:len(b)-1]},
		{"trailing byte", append(bad(func(b []byte) []byte { return b }), 0)},
		{"NaN", bad(func(b []byte) []byte { b[templateHeader+3] = 0x7f; b[templateHeader+2] = 0xc0; return b })},
		{"not unit", bad(func(b []byte) []byte { b[templateHeader+3] = 0x40; return b })},
	}
	for _, tt := range tests {
		if _, err := ParseTemplate(tt.in); !errors.Is(err, ErrTemplateFormat) {
			t.Errorf("%s: got %v, want ErrTemplateFormat", tt.name, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"model":"0000000000000000","version":1,"template":"`+tp.String()+`"}`), &back); !errors.Is(err, ErrTemplateFormat) {
		t.Errorf("JSON with a contradicting model: got %v", err)
	}
}

func TestCompareTemplatesRefusesOtherModel(t *testing.T) {
	m := newTestMatcher(t)
	own := unitTemplate(m.ModelID(), 1)
	noFlip := modelID(&embed.Options{DisableFlip: true})
	if noFlip == m.ModelID() {
		t.Fatal("flip and no-flip embeddings share a ModelID")
	}
	other := unitTemplate(noFlip, 2)
	if _, err := m.CompareTemplates(own, other, nil); !errors.Is(err, ErrTemplateModel) {
		t.Fatalf("got %v, want ErrTemplateModel", err)
	}
	if _, err := m.CompareTemplates(own, own, &CompareOptions{Threshold: 70}); !errors.Is(err, ErrInvalidThreshold) {
		t.Fatalf("got %v, want ErrInvalidThreshold", err)
	}
	r, err := m.CompareTemplates(own, own, nil)
	if err != nil || !r.Match || r.Similarity < 0.9999 {
		t.Fatalf("a template against itself: %+v, %v", r, err)
	}
	id, err := ParseModelID(m.ModelID().String())
	if err != nil || id != m.ModelID() {
		t.Fatalf("ParseModelID round trip: %v %v", id, err)
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
