package gallery_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/gallerytest"
)

// BenchmarkSearch measures an exact K=10 search of the embedded gallery
// against the baseline of scoring every template with compare.Cosine (the
// obvious loop) in the same run: the ratio is the GEMM kernels' gain.
// bench/cmd/gallery speed measures 10k to 1M templates on one core.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		r := rand.New(rand.NewPCG(1, 2))
		g := gallery.NewMemory(gallerytest.Model(), nil)
		entries := make([]gallery.Entry, n)
		for i := range entries {
			entries[i] = gallery.Entry{ID: fmt.Sprint(i), Template: gallerytest.RandomTemplate(r, gallerytest.Model())}
		}
		if err := g.EnrollBatch(context.Background(), entries); err != nil {
			b.Fatal(err)
		}
		q := gallerytest.RandomTemplate(r, gallerytest.Model())
		b.Run(fmt.Sprintf("Embedded/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Search(context.Background(), q, &gallery.SearchOptions{K: 10}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("CosineLoop/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				best := -2.0
				for _, e := range entries {
					if c := compare.Cosine(q.Vector, e.Template.Vector); c > best {
						best = c
					}
				}
			}
		})
		g.Close()
	}
}
