package bench

import (
	"context"
	"testing"

	"github.com/facematch/facematch"
)

// BenchmarkCompareLiveness is Compare on the two ~640x480 uploads with and
// without CompareOptions.Liveness, in the same run, so the cost of the
// liveness check reads as a ratio. (Until the fast nn runtime is wired into
// package liveness, its networks run on the float64 reference evaluator.)
func BenchmarkCompareLiveness(b *testing.B) {
	ups, _ := fixtures(b)
	m, err := facematch.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts *facematch.CompareOptions
	}{{"compare", nil}, {"compare+liveness", &facematch.CompareOptions{Liveness: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := m.Compare(ctx, facematch.Bytes(ups[0].jpeg), facematch.Bytes(ups[1].jpeg), tc.opts)
				if err != nil {
					b.Fatal(err)
				}
				if (r.Liveness != nil) != (tc.opts != nil) {
					b.Fatal("liveness result missing or unexpected")
				}
			}
		})
	}
}
