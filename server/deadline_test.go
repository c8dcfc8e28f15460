package server

import (
	"context"
	"testing"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/internal/testfake"
)

// TestAbandonedComparisonStops: after the deadline answer the comparison
// left running (it holds the memory charge) stops soon, because the
// request's context reaches inside the detector, instead of running to its
// end (about 15 s for this image before) while its memory stays charged.
func TestAbandonedComparisonStops(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real matcher on a 20000x20000 image.Image")
	}
	m, err := facematch.New(&facematch.Options{MaxPixels: 20000 * 20000})
	if err != nil {
		t.Fatal(err)
	}
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxConcurrent: 1, RequestTimeout: 300 * time.Millisecond})
	s.compare = func(ctx context.Context, _ Matcher, _ *Request) (*facematch.Result, error) {
		big := facematch.Image(testfake.Noise{W: 20000, H: 20000})
		return m.Compare(ctx, big, big, nil)
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	start := time.Now()
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeTimeout)
	answered := time.Since(start)
	// Generous bound: the point is that it stops long before the ~15 s the
	// comparison took when the deadline was checked only between stages.
	deadline := time.Now().Add(5 * time.Second)
	for (s.abandoned.Load() != 0 || s.adm.memInUse.Load() != 0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("timeout answer after %v; abandoned comparison stopped %v after the request began", answered, time.Since(start))
	if s.abandoned.Load() != 0 || s.adm.memInUse.Load() != 0 {
		t.Fatalf("5 s after the deadline answer: %d abandoned, %d bytes charged; want 0, 0", s.abandoned.Load(), s.adm.memInUse.Load())
	}
}
