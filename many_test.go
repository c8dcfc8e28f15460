package facematch

import (
	"context"
	"errors"
	"testing"
)

func TestCompareManyMatchesCompare(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	ref := testdata(t, "astronaut.jpg")
	cands := []string{testdata(t, "astronaut_moved.jpg"), testdata(t, "hopper.jpg"), fixture(t, "noface_coffee.png"), testdata(t, "astronaut_exif6.jpg")}
	srcs := make([]Source, len(cands))
	for i, c := range cands {
		srcs[i] = File(c)
	}
	res, err := m.CompareMany(ctx, File(ref), srcs, &CompareOptions{Threshold: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(cands) || res.Threshold != 0.8 {
		t.Fatalf("%d results, threshold %v", len(res.Results), res.Threshold)
	}
	best := -1.0
	for i, c := range cands {
		want, werr := m.Compare(ctx, File(ref), File(c), &CompareOptions{Threshold: 0.8})
		got := res.Results[i]
		if werr != nil {
			var ie *ImageError
			if !errors.As(got.Err, &ie) || ie.Image != i+2 || !errors.Is(got.Err, ErrNoFace) || got.Result != nil {
				t.Errorf("candidate %d: got %v, want image%d: %v", i, got.Err, i+2, werr)
			}
			continue
		}
		if got.Err != nil {
			t.Fatalf("candidate %d: %v", i, got.Err)
		}
		if got.Percentage != want.Percentage || got.Match != want.Match || got.Images[1].Used != want.Images[1].Used {
			t.Errorf("candidate %d: %v %.17g, Compare %v %.17g", i, got.Match, got.Percentage, want.Match, want.Percentage)
		}
		if got.Percentage > best {
			best = got.Percentage
		}
	}
	if b := res.BestResult(); b == nil || b.Percentage != best {
		t.Errorf("best %+v, want percentage %v", res.Best, best)
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
