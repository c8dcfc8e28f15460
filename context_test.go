package facematch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/testfake"
)

// TestCompareDeadlineInsideDetect: Compare's context reaches inside the
// detector. A 20000x20000 image.Image (issue 11's case) took 14.9 s in the
// detector's conversion alone; with a 1 s deadline Compare returns
// context.DeadlineExceeded soon after it.
func TestCompareDeadlineInsideDetect(t *testing.T) {
	if testing.Short() {
		t.Skip("converts part of a 20000x20000 image")
	}
	m, err := New(&Options{MaxPixels: 20000 * 20000})
	if err != nil {
		t.Fatal(err)
	}
	selfie := File(testdata(t, "astronaut.jpg"))
	for _, c := range []struct {
		name       string
		img1, img2 Source
	}{
		{"large image1", Image(testfake.Noise{W: 20000, H: 20000}), selfie},
		{"large image2", selfie, Image(testfake.Noise{W: 20000, H: 20000})},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		start := time.Now()
		res, err := m.Compare(ctx, c.img1, c.img2, nil)
		elapsed := time.Since(start)
		cancel()
		t.Logf("%s, 1 s deadline: returned after %v", c.name, elapsed)
		if !errors.Is(err, context.DeadlineExceeded) || res != nil {
			t.Errorf("%s: Compare = %v, %v; want nil, context.DeadlineExceeded", c.name, res, err)
		}
		// Generous: before the context reached inside the stages this
		// returned after 6.7-7.0 s on the 2-core development machine.
		if elapsed > 3*time.Second {
			t.Errorf("%s: returned after %v with a 1 s deadline", c.name, elapsed)
		}
	}
}

// TestDetectCanceledNotInternal: a context ending during detection is
// reported as the context's error, not as ErrInternal.
func TestDetectCanceledNotInternal(t *testing.T) {
	m := newTestMatcher(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := m.Detect(ctx, Image(testfake.Noise{W: 4000, H: 4000}))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrInternal) {
		t.Errorf("Detect = %v; want context.DeadlineExceeded", err)
	}
}
