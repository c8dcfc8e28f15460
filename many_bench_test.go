package facematch

import (
	"context"
	"os"
	"testing"
)

// BenchmarkCompareMany compares one reference with three candidates:
// CompareMany (the reference examined once) against a Compare per
// candidate (the reference examined each time). Sources are bytes, so
// decoding is in both.
func BenchmarkCompareMany(b *testing.B) {
	m := newTestMatcher(b)
	ctx := context.Background()
	read := func(path string) Source {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		return Bytes(data)
	}
	ref := read(testdata(b, "astronaut.jpg"))
	cands := []Source{read(testdata(b, "astronaut_moved.jpg")), read(testdata(b, "hopper.jpg")), read(testdata(b, "astronaut_exif6.jpg"))}
	b.Run("CompareMany3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.CompareMany(ctx, ref, cands, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Compare3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, c := range cands {
				if _, err := m.Compare(ctx, ref, c, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
