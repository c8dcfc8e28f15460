package detect

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/testfake"
)

// TestDetectContextDeadline: a deadline reaches inside Detect. An 8000x8000
// image.Image read through At takes seconds to convert alone; with a 1 s
// deadline DetectContext returns context.DeadlineExceeded soon after it.
func TestDetectContextDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("converts part of an 8000x8000 image")
	}
	d := detector(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	faces, err := d.DetectContext(ctx, testfake.Noise{W: 8000, H: 8000})
	elapsed := time.Since(start)
	t.Logf("8000x8000 image.Image, 1 s deadline: returned after %v", elapsed)
	if !errors.Is(err, context.DeadlineExceeded) || faces != nil {
		t.Fatalf("DetectContext = %d faces, %v; want nil, context.DeadlineExceeded", len(faces), err)
	}
	// Generous: the point is that it does not run to the end (tens of
	// seconds on a shared 2-core machine).
	if elapsed > 5*time.Second {
		t.Errorf("returned after %v with a 1 s deadline", elapsed)
	}
}

// TestDetectContextEveryStage stops DetectContext at each of its looks at
// the context in turn, on a faceless image (which runs every stage: mirror,
// padding, quarter turns, rotations, ONet on weak windows) and on a
// portrait: it returns context.Canceled and no faces wherever it stops, and
// the faces of Detect when it is never stopped.
func TestDetectContextEveryStage(t *testing.T) {
	d := detector(t)
	for _, c := range []struct {
		name string
		img  image.Image
	}{
		{"noise 300x300", testfake.Noise{W: 300, H: 300}},
		{"astronaut", fixture(t, "astronaut_eileen_collins.png")},
	} {
		want, err := d.Detect(c.img)
		if err != nil {
			t.Fatal(err)
		}
		// Count the looks of a full run.
		full := testfake.NewCountdown(1 << 30)
		got, err := d.DetectContext(full, c.img)
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s, live context: %d faces, %v; want %d", c.name, len(got), err, len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s, live context: face %d = %+v, Detect's %+v", c.name, i, got[i], want[i])
			}
		}
		t.Logf("%s: %d looks at the context, %d faces", c.name, full.Looks, len(want))
		if full.Looks < 10 {
			t.Errorf("%s: DetectContext looked at its context %d times", c.name, full.Looks)
		}
		for n := 0; n < full.Looks; n += max(1, full.Looks/40) {
			ctx := testfake.NewCountdown(n)
			if faces, err := d.DetectContext(ctx, c.img); !errors.Is(err, context.Canceled) || faces != nil {
				t.Errorf("%s stopped at look %d of %d: %d faces, %v; want nil, context.Canceled", c.name, n+1, full.Looks, len(faces), err)
			}
		}
	}
}

// gapCtx records the longest time between two looks at it.
type gapCtx struct {
	context.Context
	last   time.Time
	maxGap time.Duration
}

func (c *gapCtx) Err() error {
	now := time.Now()
	if !c.last.IsZero() {
		c.maxGap = max(c.maxGap, now.Sub(c.last))
	}
	c.last = now
	return nil
}

// TestDetectContextGaps logs the longest stretch of work between two looks
// at the context on a faceless 1024x1024 image, which runs every stage
// (the figure for "a deadline is met within ~100 ms of work"; timing is
// logged, not asserted).
func TestDetectContextGaps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every stage on a 1024-pixel image")
	}
	d := detector(t)
	ctx := &gapCtx{Context: context.Background()}
	start := time.Now()
	faces, err := d.DetectContext(ctx, testfake.Noise{W: 1024, H: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1024x1024 noise: %d faces in %v, longest stretch between looks at the context %v", len(faces), time.Since(start), ctx.maxGap)
}
