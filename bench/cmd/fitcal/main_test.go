package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/facematch/facematch/compare"
)

func TestRun(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var b strings.Builder
	b.WriteString("# pipeline: " + shippedPipeline + "\n# path1\tpath2\tsame\tfold\tcosine\tno_face\n")
	for i := 0; i < 3000; i++ {
		same := i%2 == 0
		c := 0.05 + 0.1*r.NormFloat64()
		if same {
			c = 0.65 + 0.12*r.NormFloat64()
		}
		nf := 0
		if i%500 == 0 {
			c, nf = -1, 1+i%1000/500 // 1 or 2 images without a face
		}
		fmt.Fprintf(&b, "a%d.jpg\tb%d.jpg\t%d\t%d\t%v\t%d\n", i, i, map[bool]int{true: 1, false: 0}[same], i%10+1, math.Max(-1, math.Min(1, c)), nf)
	}
	var out bytes.Buffer
	cal, rows, err := fitAndReport(strings.NewReader(b.String()), &out, 0.001, true)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"pairs 3000 (1500 genuine, 1500 impostor), 6 with no face", "var Default = Calibration{", "| 0.70 |", "| 0.95 |"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if len(rows) != 4 || rows[0].threshold != 0.70 {
		t.Fatalf("rows = %+v", rows)
	}
	// The default threshold accepts at most 0.1 % of impostors and sits at
	// 70 %; stricter thresholds trade FAR for FRR.
	if rows[0].far > 0.001 {
		t.Errorf("FAR at 0.70 = %v", rows[0].far)
	}
	// The 0.70 cosine is where the percentage rounds to 70.00 (69.995).
	if p := cal.Percentage(rows[0].cosine); math.Abs(p-69.995) > 1e-6 || compare.RoundPercentage(p) != 70 {
		t.Errorf("Percentage at the 0.70 cosine = %v", p)
	}
	// Scores of another path are refused unless asked for.
	other := strings.Replace(b.String(), shippedPipeline, "detector, diagnostic pick center", 1)
	if err := run(strings.NewReader(other), &out, 0.001, true); err == nil || !strings.Contains(err.Error(), "shipped path") {
		t.Errorf("scores of a diagnostic path: err = %v", err)
	}
	if err := run(strings.NewReader(other), &out, 0.001, false); err != nil {
		t.Errorf("--any-pipeline: %v", err)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].far > rows[i-1].far || rows[i].frr < rows[i-1].frr || rows[i].cosine <= rows[i-1].cosine {
			t.Errorf("row %+v after %+v", rows[i], rows[i-1])
		}
	}
	for _, bad := range []string{"", "a\tb\t1\t1\t0.5\n", "a\tb\t2\t1\t0.5\t0\n", "a\tb\t1\t1\tx\t0\n", "a\tb\t1\t1\t0.3\t-1\n"} {
		if err := run(strings.NewReader(bad), &out, 0.001, false); err == nil {
			t.Errorf("run(%q) succeeded", bad)
		}
	}
}
