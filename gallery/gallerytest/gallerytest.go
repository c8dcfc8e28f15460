// Package gallerytest is the conformance suite every gallery.Gallery
// implementation passes: the embedded one and the PostgreSQL one run the
// same tests.
package gallerytest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/gallery"
)

// Model returns the ModelID the suite's templates carry; Open must return
// an empty gallery for it.
func Model() facematch.ModelID { return facematch.ModelID{'g', 'a', 'l', 'l', 'e', 'r', 'y', 1} }

// OtherModel returns a ModelID the gallery must refuse.
func OtherModel() facematch.ModelID { return facematch.ModelID{'o', 't', 'h', 'e', 'r', 0, 0, 1} }

// RandomTemplate returns a template of model with a random unit vector.
func RandomTemplate(r *rand.Rand, model facematch.ModelID) *facematch.Template {
	v := make([]float32, embed.Dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return &facematch.Template{Model: model, Vector: normalize(v)}
}

// Near returns a template of t's model whose cosine with t is about cos.
func Near(r *rand.Rand, t *facematch.Template, cos float64) *facematch.Template {
	noise := RandomTemplate(r, t.Model).Vector
	// Remove the noise's component along t, then mix.
	var d float64
	for i := range noise {
		d += float64(noise[i]) * float64(t.Vector[i])
	}
	for i := range noise {
		noise[i] -= float32(d) * t.Vector[i]
	}
	noise = normalize(noise)
	s := math.Sqrt(1 - cos*cos)
	v := make([]float32, embed.Dim)
	for i := range v {
		v[i] = float32(cos*float64(t.Vector[i]) + s*float64(noise[i]))
	}
	return &facematch.Template{Model: t.Model, Vector: normalize(v)}
}

func normalize(v []float32) []float32 {
	var ss float64
	for _, f := range v {
		ss += float64(f) * float64(f)
	}
	n := math.Sqrt(ss)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// Run runs the suite. open returns a new, empty gallery for Model with
// the default calibration; Run closes it.
func Run(t *testing.T, open func(t *testing.T) gallery.Gallery) {
	t.Run("Basics", func(t *testing.T) { testBasics(t, open(t)) })
	t.Run("SearchIsExact", func(t *testing.T) { testSearch(t, open(t)) })
	t.Run("Remove", func(t *testing.T) { testRemove(t, open(t)) })
	t.Run("EnrollUnique", func(t *testing.T) { testUnique(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("Close", func(t *testing.T) { testClose(t, open(t)) })
}

var ctx = context.Background()

func mustCount(t *testing.T, g gallery.Gallery, want int) {
	t.Helper()
	n, err := g.Count(ctx)
	if err != nil || n != want {
		t.Fatalf("Count = %d, %v; want %d", n, err, want)
	}
}

func testBasics(t *testing.T, g gallery.Gallery) {
	defer g.Close()
	r := rand.New(rand.NewPCG(1, 2))
	mustCount(t, g, 0)
	if ms, err := g.Search(ctx, RandomTemplate(r, Model()), nil); err != nil || len(ms) != 0 {
		t.Fatalf("empty gallery: %v, %v", ms, err)
	}
	a := RandomTemplate(r, Model())
	if err := g.Enroll(ctx, "alice", a); err != nil {
		t.Fatal(err)
	}
	mustCount(t, g, 1)
	checks := []struct {
		name string
		id   string
		t    *facematch.Template
		want error
	}{
		{"existing id", "alice", RandomTemplate(r, Model()), gallery.ErrExists},
		{"empty id", "", a, gallery.ErrInvalidID},
		{"long id", string(make([]byte, gallery.MaxIDLength+1)), a, gallery.ErrInvalidID},
		{"control character", "a\nb", a, gallery.ErrInvalidID},
		{"invalid UTF-8", "\xff", a, gallery.ErrInvalidID},
		{"other model", "bob", RandomTemplate(r, OtherModel()), facematch.ErrTemplateModel},
		{"nil template", "bob", nil, facematch.ErrTemplateFormat},
		{"short vector", "bob", &facematch.Template{Model: Model(), Vector: a.Vector[:10]}, facematch.ErrTemplateFormat},
	}
	for _, c := range checks {
		if err := g.Enroll(ctx, c.id, c.t); !errors.Is(err, c.want) {
			t.Errorf("Enroll %s: got %v, want %v", c.name, err, c.want)
		}
	}
	mustCount(t, g, 1)
	ms, err := g.Search(ctx, a, nil)
	if err != nil || len(ms) != 1 || ms[0].ID != "alice" || ms[0].Similarity < 0.9999 {
		t.Fatalf("search for an enrolled template: %+v, %v", ms, err)
	}
	if _, err := g.Search(ctx, RandomTemplate(r, OtherModel()), nil); !errors.Is(err, facematch.ErrTemplateModel) {
		t.Errorf("search with another model's template: %v", err)
	}
	for _, o := range []gallery.SearchOptions{{K: -1}, {K: gallery.MaxK + 1}, {MinPercentage: -1}, {MinPercentage: 101}, {MinPercentage: math.NaN()}} {
		if _, err := g.Search(ctx, a, &o); !errors.Is(err, gallery.ErrInvalidSearch) {
			t.Errorf("Search %+v: got %v, want ErrInvalidSearch", o, err)
		}
	}
	// Ids are arbitrary UTF-8 text, kept exactly.
	odd := "Ünïcode id / with 'quotes'; DROP TABLE x --"
	if err := g.Enroll(ctx, odd, Near(r, a, 0.5)); err != nil {
		t.Fatal(err)
	}
	ms, err = g.Search(ctx, a, &gallery.SearchOptions{K: 5})
	if err != nil || len(ms) != 2 || ms[1].ID != odd {
		t.Fatalf("search: %+v, %v", ms, err)
	}
}

// bruteForce is the reference search.
func bruteForce(ids []string, ts map[string]*facematch.Template, q *facematch.Template, k int, minP float64) []gallery.Match {
	var out []gallery.Match
	for _, id := range ids {
		s := compare.Cosine(q.Vector, ts[id].Vector)
		p := compare.RoundPercentage(compare.DefaultCalibration().Percentage(s))
		if minP <= 0 || compare.Meets(p, minP/100) {
			out = append(out, gallery.Match{ID: id, Percentage: p, Similarity: s})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Similarity != out[j].Similarity {
			return out[i].Similarity > out[j].Similarity
		}
		return out[i].ID < out[j].ID
	})
	return out[:min(k, len(out))]
}

func testSearch(t *testing.T, g gallery.Gallery) {
	defer g.Close()
	r := rand.New(rand.NewPCG(3, 4))
	ts := map[string]*facematch.Template{}
	var ids []string
	var queries []*facematch.Template
	// 40 identities with 5 templates each around a centre, 100 loners: a
	// few clear matches per query among many non-matches.
	for p := range 40 {
		c := RandomTemplate(r, Model())
		queries = append(queries, Near(r, c, 0.8))
		for j := range 5 {
			id := fmt.Sprintf("p%02d-%d", p, j)
			ts[id] = Near(r, c, 0.6+0.08*float64(j))
			ids = append(ids, id)
		}
	}
	for i := range 100 {
		id := fmt.Sprintf("x%03d", i)
		ts[id] = RandomTemplate(r, Model())
		ids = append(ids, id)
	}
	for _, id := range ids {
		if err := g.Enroll(ctx, id, ts[id]); err != nil {
			t.Fatal(err)
		}
	}
	mustCount(t, g, len(ids))
	queries = append(queries, RandomTemplate(r, Model()))
	for qi, q := range queries {
		for _, o := range []gallery.SearchOptions{{}, {K: 1}, {K: 3}, {K: 50}, {K: 10, MinPercentage: 70}, {K: 10, MinPercentage: 99}} {
			got, err := g.Search(ctx, q, &o)
			if err != nil {
				t.Fatal(err)
			}
			k := o.K
			if k == 0 {
				k = gallery.DefaultK
			}
			want := bruteForce(ids, ts, q, k, o.MinPercentage)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("query %d %+v:\n got %v\nwant %v", qi, o, got, want)
			}
		}
	}
}

func testRemove(t *testing.T, g gallery.Gallery) {
	defer g.Close()
	r := rand.New(rand.NewPCG(5, 6))
	ts := map[string]*facematch.Template{}
	var ids []string
	for i := range 50 {
		id := fmt.Sprintf("id%02d", i)
		ts[id] = RandomTemplate(r, Model())
		ids = append(ids, id)
		if err := g.Enroll(ctx, id, ts[id]); err != nil {
			t.Fatal(err)
		}
	}
	n, err := g.Remove(ctx, "id03", "id49", "nobody", "id03")
	if err != nil || n != 2 {
		t.Fatalf("Remove = %d, %v; want 2", n, err)
	}
	mustCount(t, g, 48)
	if n, err := g.Remove(ctx, "id03"); err != nil || n != 0 {
		t.Fatalf("Remove again = %d, %v; want 0", n, err)
	}
	if _, err := g.Remove(ctx, ""); !errors.Is(err, gallery.ErrInvalidID) {
		t.Errorf("Remove(\"\"): %v", err)
	}
	for _, id := range []string{"id03", "id49"} {
		ms, err := g.Search(ctx, ts[id], &gallery.SearchOptions{K: 1})
		if err != nil || len(ms) != 1 || ms[0].ID == id {
			t.Fatalf("search for removed %s: %+v, %v", id, ms, err)
		}
	}
	// The others are still found, with their own template.
	for _, id := range ids {
		if id == "id03" || id == "id49" {
			continue
		}
		ms, err := g.Search(ctx, ts[id], &gallery.SearchOptions{K: 1})
		if err != nil || len(ms) != 1 || ms[0].ID != id || ms[0].Similarity < 0.9999 {
			t.Fatalf("search for %s: %+v, %v", id, ms, err)
		}
	}
	// A removed id can be enrolled again.
	if err := g.Enroll(ctx, "id03", ts["id03"]); err != nil {
		t.Fatal(err)
	}
	mustCount(t, g, 49)
}

func testUnique(t *testing.T, g gallery.Gallery) {
	defer g.Close()
	r := rand.New(rand.NewPCG(7, 8))
	a := RandomTemplate(r, Model())
	if err := g.EnrollUnique(ctx, "alice", a, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := g.EnrollUnique(ctx, fmt.Sprint("other", i), RandomTemplate(r, Model()), 0); err != nil {
			t.Fatal(err)
		}
	}
	// The same face (cosine 0.5, about 91 %) under a new identity.
	again := Near(r, a, 0.5)
	err := g.EnrollUnique(ctx, "mallory", again, 0)
	var dup *gallery.DuplicateError
	if !errors.As(err, &dup) || !errors.Is(err, gallery.ErrDuplicate) || dup.ID != "alice" || dup.Percentage < 70 {
		t.Fatalf("EnrollUnique of alice's face as mallory: %v", err)
	}
	mustCount(t, g, 21)
	// At a stricter threshold than the match, it is accepted.
	p := compare.DefaultCalibration().Percentage(compare.Cosine(a.Vector, again.Vector))
	if p > 94.9 {
		t.Fatalf("test template too similar: %.2f%%", p)
	}
	if err := g.EnrollUnique(ctx, "mallory", again, 0.95); err != nil {
		t.Fatalf("threshold 0.95, match at %.2f%%: %v", p, err)
	}
	for _, th := range []float64{0.5, 1, math.NaN()} {
		if err := g.EnrollUnique(ctx, "x", RandomTemplate(r, Model()), th); !errors.Is(err, facematch.ErrInvalidThreshold) {
			t.Errorf("threshold %v: %v", th, err)
		}
	}
	if err := g.EnrollUnique(ctx, "alice", RandomTemplate(r, Model()), 0); !errors.Is(err, gallery.ErrExists) {
		t.Errorf("existing id: %v", err)
	}
}

func testConcurrent(t *testing.T, g gallery.Gallery) {
	defer g.Close()
	const writers, perWriter = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range perWriter {
				if err := g.Enroll(ctx, fmt.Sprintf("w%d-%d", w, i), RandomTemplate(r, Model())); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 10))
			for range perWriter {
				if _, err := g.Search(ctx, RandomTemplate(r, Model()), &gallery.SearchOptions{K: 5}); err != nil {
					errs <- err
					return
				}
				if _, err := g.Count(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustCount(t, g, writers*perWriter)
}

func testClose(t *testing.T, g gallery.Gallery) {
	r := rand.New(rand.NewPCG(11, 12))
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Enroll(ctx, "a", RandomTemplate(r, Model())); !errors.Is(err, gallery.ErrClosed) {
		t.Errorf("Enroll after Close: %v", err)
	}
	if _, err := g.Search(ctx, RandomTemplate(r, Model()), nil); !errors.Is(err, gallery.ErrClosed) {
		t.Errorf("Search after Close: %v", err)
	}
	if _, err := g.Count(ctx); !errors.Is(err, gallery.ErrClosed) {
		t.Errorf("Count after Close: %v", err)
	}
}
