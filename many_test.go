package facematch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

// TestCompareManyMatchesCompare: every candidate's result is Compare's for
// the pair, bit for bit, under each face-policy option.
func TestCompareManyMatchesCompare(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	ref := testdata(t, "astronaut.jpg")
	cands := []string{testdata(t, "astronaut_moved.jpg"), testdata(t, "hopper.jpg"), fixture(t, "noface_coffee.png"),
		testdata(t, "astronaut_exif6.jpg"), fixture(t, "obama_biden_two_faces.jpg")}
	srcs := make([]Source, len(cands))
	for i, c := range cands {
		srcs[i] = File(c)
	}
	for _, opts := range []*CompareOptions{nil, {Threshold: 0.8}, {BestFace: true}, {RequireSingleFace: true}, {Liveness: true, Threshold: 0.9}} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			res, err := m.CompareMany(ctx, File(ref), srcs, opts)
			if err != nil {
				t.Fatal(err)
			}
			wantTh := 0.70
			if opts != nil && opts.Threshold != 0 {
				wantTh = opts.Threshold
			}
			if len(res.Results) != len(cands) || res.Threshold != wantTh {
				t.Fatalf("%d results, threshold %v", len(res.Results), res.Threshold)
			}
			best := -1.0
			for i, c := range cands {
				want, werr := m.Compare(ctx, File(ref), File(c), opts)
				got := res.Results[i]
				if werr != nil {
					var ie, wie *ImageError
					if !errors.As(got.Err, &ie) || ie.Image != i+2 || !errors.As(werr, &wie) || wie.Image != 2 || ie.Err.Error() != wie.Err.Error() || got.Result != nil {
						t.Errorf("candidate %d: got %v, want image%d: %v", i, got.Err, i+2, werr)
					}
					continue
				}
				if got.Err != nil {
					t.Fatalf("candidate %d: %v", i, got.Err)
				}
				if math.Float64bits(got.Similarity) != math.Float64bits(want.Similarity) || got.Percentage != want.Percentage ||
					got.Match != want.Match || got.MultipleFaces != want.MultipleFaces || got.Threshold != want.Threshold {
					t.Errorf("candidate %d: %v %.17g %.17g, Compare %v %.17g %.17g", i, got.Match, got.Similarity, got.Percentage, want.Match, want.Similarity, want.Percentage)
				}
				for k := range 2 {
					g, w := got.Images[k], want.Images[k]
					if g.Used != w.Used || len(g.Faces) != len(w.Faces) || g.Width != w.Width || !bytes.Equal(g.Crop.Pix, w.Crop.Pix) {
						t.Errorf("candidate %d image %d: used %d of %d faces, Compare %d of %d", i, k+1, g.Used, len(g.Faces), w.Used, len(w.Faces))
					}
				}
				if (got.Liveness == nil) != (want.Liveness == nil) || got.Liveness != nil && *got.Liveness != *want.Liveness {
					t.Errorf("candidate %d: liveness %+v, Compare %+v", i, got.Liveness, want.Liveness)
				}
				if got.Percentage > best {
					best = got.Percentage
				}
			}
			if b := res.BestResult(); b == nil || b.Percentage != best {
				t.Errorf("best %+v, want percentage %v", res.Best, best)
			}
		})
	}
}

// TestCompareManyExaminesReferenceOnce: the reference is detected once,
// however many candidates (Compare per candidate would detect it each
// time).
func TestCompareManyExaminesReferenceOnce(t *testing.T) {
	var mu sync.Mutex
	stages := map[string]int{}
	m, err := New(&Options{StageObserver: func(stage string, _ time.Duration) {
		mu.Lock()
		stages[stage]++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := File(testdata(t, "hopper.jpg"))
	res, err := m.CompareMany(context.Background(), File(testdata(t, "astronaut.jpg")), []Source{c, c, c}, nil)
	if err != nil || res.Best != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if stages[StageDetect] != 4 || stages[StageEmbed] != 4 || stages[StageDecode] != 4 {
		t.Errorf("stages %v, want 4 decodes, detections and embeddings for 1 reference + 3 candidates", stages)
	}
}

func TestCompareManyErrors(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	one := []Source{File(testdata(t, "hopper.jpg"))}
	if _, err := m.CompareMany(ctx, File(testdata(t, "astronaut.jpg")), nil, nil); !errors.Is(err, ErrTooManyCandidates) {
		t.Errorf("no candidates: %v", err)
	}
	if _, err := m.CompareMany(ctx, File(testdata(t, "astronaut.jpg")), make([]Source, MaxCandidates+1), nil); !errors.Is(err, ErrTooManyCandidates) {
		t.Errorf("too many candidates: %v", err)
	}
	if _, err := m.CompareMany(ctx, File(testdata(t, "astronaut.jpg")), one, &CompareOptions{Threshold: 0.5}); !errors.Is(err, ErrInvalidThreshold) {
		t.Errorf("bad threshold: %v", err)
	}
	var ie *ImageError
	_, err := m.CompareMany(ctx, File(fixture(t, "noface_coffee.png")), append(one, one...), nil)
	if !errors.As(err, &ie) || ie.Image != 1 || !errors.Is(err, ErrNoFace) {
		t.Errorf("reference without a face: %v", err)
	}
	if _, err := m.CompareMany(ctx, nil, one, nil); !errors.As(err, &ie) || ie.Image != 1 || !errors.Is(err, ErrNilSource) {
		t.Errorf("nil reference: %v", err)
	}
	res, err := m.CompareMany(ctx, File(testdata(t, "astronaut.jpg")), []Source{nil}, nil)
	if err != nil || !errors.Is(res.Results[0].Err, ErrNilSource) || res.Best != -1 || res.BestResult() != nil {
		t.Errorf("nil candidate: %+v %v", res, err)
	}
}
