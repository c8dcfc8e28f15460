package gallery_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/gallerytest"
)

func Example() {
	dir, _ := os.MkdirTemp("", "gallery")
	defer os.RemoveAll(dir)
	// With a real Matcher: gallery.Open(path, m.ModelID(), nil) and
	// templates from m.Template.
	g, err := gallery.Open(filepath.Join(dir, "faces.db"), gallerytest.Model(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	alice := gallerytest.RandomTemplate(r, gallerytest.Model())
	g.EnrollUnique(ctx, "alice", alice, 0)
	g.EnrollUnique(ctx, "bob", gallerytest.RandomTemplate(r, gallerytest.Model()), 0)

	// The same face again, under another name: refused.
	err = g.EnrollUnique(ctx, "mallory", gallerytest.Near(r, alice, 0.6), 0)
	var dup *gallery.DuplicateError
	if errors.As(err, &dup) {
		fmt.Println("already enrolled as", dup.ID)
	}
	ms, _ := g.Search(ctx, gallerytest.Near(r, alice, 0.6), &gallery.SearchOptions{K: 3, MinPercentage: 70})
	for _, m := range ms {
		fmt.Println(m.ID, m.Percentage > 90)
	}
	n, _ := g.Count(ctx)
	fmt.Println(n, "enrolled")
	// Output:
	// already enrolled as alice
	// alice true
	// 2 enrolled
}
