package facematch

import (
	"context"
	"testing"
)

// BenchmarkMatcher measures the public API on the generated testdata photos
// (400x400 and 480x400 JPEGs, one face each).
func BenchmarkMatcher(b *testing.B) {
	m := newTestMatcher(b)
	a := readFile(b, testdata(b, "astronaut.jpg"))
	moved := readFile(b, testdata(b, "astronaut_moved.jpg"))
	ctx := context.Background()
	b.Run("Compare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Compare(ctx, Bytes(a), Bytes(moved), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Detect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.Detect(ctx, Bytes(a)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Embed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.Embed(ctx, Bytes(a)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
