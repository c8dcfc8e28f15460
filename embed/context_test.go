package embed

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/facematch/facematch/internal/testfake"
)

// TestEmbedContext: EmbedContext gives Embed's bits with a live context,
// stops before the first pass when ctx is done, and between the two flip
// passes when it ends after the first.
func TestEmbedContext(t *testing.T) {
	e := shared(t)
	img := testImage(3)
	want, err := e.Embed(img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.EmbedContext(context.Background(), img)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("EmbedContext: %v (equal to Embed: %v)", err, slices.Equal(got, want))
	}
	for n, what := range []string{"before the first pass", "between the flip passes"} {
		ctx := testfake.NewCountdown(n)
		if v, err := e.EmbedContext(ctx, img); !errors.Is(err, context.Canceled) || v != nil {
			t.Errorf("canceled %s: %v, %v; want nil, context.Canceled", what, v, err)
		}
	}
	// Without the flip there is one pass: a context ending after it no
	// longer matters.
	nf, err := New(&Options{DisableFlip: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nf.EmbedContext(testfake.NewCountdown(1), img); err != nil {
		t.Errorf("no flip, context ending after the pass: %v", err)
	}
}
