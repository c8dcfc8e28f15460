package calfit

import "testing"

func BenchmarkFit6000(b *testing.B) {
	cos, same := synthetic(5, 3000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(cos, same); err != nil {
			b.Fatal(err)
		}
	}
}
