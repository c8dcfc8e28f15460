package facematch

import (
	"context"
	"errors"
	"image"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/liveness"
)

// TestLiveness checks minivision's own sample photos: image_T1 is a live
// face, image_F1 a photo of a photo.
func TestLiveness(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		live bool
	}{{"image_T1.jpg", true}, {"image_F1.jpg", false}} {
		src := File(sharedtest.Path(t, "models", "minifasnet", "samples", tc.name))
		r, err := m.Liveness(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		if r.Live != tc.live || r.Score < 0 || r.Score > 1 || r.Threshold != liveness.DefaultThreshold {
			t.Errorf("%s: live %v score %.4f threshold %v, want live %v", tc.name, r.Live, r.Score, r.Threshold, tc.live)
		}
		mean := (r.Models[0].Live + r.Models[1].Live) / 2
		if r.Score != mean || r.Face.Box.Empty() {
			t.Errorf("%s: score %v is not the mean of %v and %v, or no face", tc.name, r.Score, r.Models[0].Live, r.Models[1].Live)
		}
		t.Logf("%s: score %.4f (V2 %.4f, V1SE %.4f)", tc.name, r.Score, r.Models[0].Live, r.Models[1].Live)
	}
}

// TestCompareWithLiveness checks that Compare's liveness is that of
// image2's compared face, bit for bit what Liveness gives on its own.
func TestCompareWithLiveness(t *testing.T) {
	m := newTestMatcher(t)
	ctx := context.Background()
	src := File(sharedtest.Path(t, "models", "minifasnet", "samples", "image_T1.jpg"))
	res, err := m.Compare(ctx, src, src, &CompareOptions{Liveness: true})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := m.Liveness(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Liveness == nil || res.Liveness.Score != alone.Score || res.Liveness.Face.Box != res.Images[1].Faces[res.Images[1].Used].Box {
		t.Fatalf("Compare liveness %+v, alone %+v", res.Liveness, alone)
	}
	plain, err := m.Compare(ctx, src, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.Liveness != nil || plain.Percentage != res.Percentage {
		t.Errorf("without the option: liveness %v, percentage %v vs %v", plain.Liveness, plain.Percentage, res.Percentage)
	}
}

func TestLivenessErrors(t *testing.T) {
	for _, th := range []float64{-0.1, 1.5} {
		if _, err := New(&Options{Liveness: &liveness.Options{Threshold: th}}); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("threshold %v: err %v, want ErrInvalidOptions", th, err)
		}
	}
	m := newTestMatcher(t)
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	if _, err := m.Liveness(context.Background(), Image(blank)); !errors.Is(err, ErrNoFace) {
		t.Errorf("blank image: %v, want ErrNoFace", err)
	}
	if _, err := m.Liveness(context.Background(), nil); !errors.Is(err, ErrNilSource) {
		t.Errorf("nil source: %v, want ErrNilSource", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Liveness(ctx, File(testdata(t, "astronaut.jpg"))); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// TestLivenessConcurrent runs Liveness from several goroutines on a fresh
// Matcher (so the lazy model load races too): same bits every time.
func TestLivenessConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds per check on the reference evaluator")
	}
	m, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	src := File(sharedtest.Path(t, "models", "minifasnet", "samples", "image_T1.jpg"))
	scores := make([]float64, 3)
	errs := make([]error, 3)
	done := make(chan int)
	for i := range scores {
		go func() {
			r, err := m.Liveness(context.Background(), src)
			if err == nil {
				scores[i] = r.Score
			}
			errs[i] = err
			done <- i
		}()
	}
	for range scores {
		<-done
	}
	for i := range scores {
		if errs[i] != nil || scores[i] != scores[0] {
			t.Fatalf("run %d: %v, score %v vs %v", i, errs[i], scores[i], scores[0])
		}
	}
}
