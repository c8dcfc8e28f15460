// Command fitcal fits the calibration constants of package compare
// (compare.DefaultCalibration()) on LFW pair scores and prints the FAR/FRR table of the
// documented thresholds.
//
// Produce the scores with the LFW benchmark on the shipped path (every
// image through facematch.Matcher.Embed, the function Matcher.Compare uses
// to choose and embed a face), then fit:
//
//	go run ./bench/cmd/lfw --scores /tmp/lfw-scores.tsv
//	go run ./bench/cmd/fitcal /tmp/lfw-scores.tsv
//
// fitcal refuses a scores file whose "# pipeline:" header does not name the
// shipped path (a --pick center, --landmarks or --no-flip run), so the
// constants always describe what Compare does; --any-pipeline overrides
// that for experiments.
//
// The scores file has one line per pair (after a '#' header):
// path1 TAB path2 TAB same(0|1) TAB fold TAB cosine TAB no_face, where no_face
// is 0 or the number of the pair's images in which no face was found.
//
// The slope is fitted by logistic regression (calfit.FitAnchored) with the
// curve pinned so that the default threshold, 70.00 % after rounding to two
// decimals (69.995 %, the lowest percentage compare.Meets accepts at 0.70),
// falls at the cosine where at most 0.1 % of the impostor pairs are
// accepted (calfit.CosineAtFAR(..., 0.001)). Pairs where no face was found in an
// image are left out of the fit (their cosine is a placeholder) but counted
// in the table as the pipeline scores them (never a match).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/bench/internal/calfit"
	"github.com/facematch/facematch/compare"
)

func main() {
	far := flag.Float64("far", 0.001, "false-accept rate the default threshold is anchored at")
	anyPipeline := flag.Bool("any-pipeline", false, "accept scores not made on the shipped path (experiments only)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/cmd/fitcal [--far 0.001] [--any-pipeline] SCORES.tsv")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	if err := run(f, os.Stdout, *far, !*anyPipeline); err != nil {
		fmt.Fprintln(os.Stderr, "fitcal:", err)
		os.Exit(1)
	}
}

// shippedPipeline is the "# pipeline:" header bench/cmd/lfw writes for
// scores made through facematch.Matcher (runner.PipelineShipped; the
// bench's internal packages cannot be imported from here).
const shippedPipeline = "shipped (facematch.Matcher.Compare path)"

type scores struct {
	pipeline string
	cos      []float64
	same     []bool
	noFace   []bool
	fitCos   []float64 // pairs with a face in both images
	fitSame  []bool
}

func read(r io.Reader) (*scores, error) {
	s := &scores{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if p, ok := strings.CutPrefix(t, "# pipeline: "); ok {
			s.pipeline = p
			continue
		}
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Split(t, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("line %d: want 6 tab-separated fields, got %d", line, len(f))
		}
		c, err := strconv.ParseFloat(f[4], 64)
		nf, err2 := strconv.Atoi(f[5])
		if err != nil || err2 != nil || nf < 0 || (f[2] != "0" && f[2] != "1") {
			return nil, fmt.Errorf("line %d: bad same, cosine or no_face field", line)
		}
		same, noFace := f[2] == "1", nf > 0
		s.cos = append(s.cos, c)
		s.same = append(s.same, same)
		s.noFace = append(s.noFace, noFace)
		if !noFace {
			s.fitCos = append(s.fitCos, c)
			s.fitSame = append(s.fitSame, same)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s.cos) == 0 {
		return nil, fmt.Errorf("no pairs")
	}
	return s, nil
}

// row is one line of the threshold table.
type row struct{ threshold, cosine, far, frr float64 }

func run(r io.Reader, w io.Writer, far float64, shippedOnly bool) error {
	_, _, err := fitAndReport(r, w, far, shippedOnly)
	return err
}

func fitAndReport(r io.Reader, w io.Writer, far float64, shippedOnly bool) (compare.Calibration, []row, error) {
	s, err := read(r)
	if err != nil {
		return compare.Calibration{}, nil, err
	}
	if shippedOnly && s.pipeline != shippedPipeline {
		return compare.Calibration{}, nil, fmt.Errorf("the scores were not made on the shipped path (pipeline %q, want %q): run bench/cmd/lfw without --pick, --landmarks or --no-flip, or pass --any-pipeline for an experiment", s.pipeline, shippedPipeline)
	}
	var gen, imp, nf int
	for i := range s.cos {
		if s.same[i] {
			gen++
		} else {
			imp++
		}
		if s.noFace[i] {
			nf++
		}
	}
	// The anchor is taken on all pairs as scored: a no-face impostor pair
	// (placeholder cosine) is never accepted, so it only adds to the count.
	anchor, err := calfit.CosineAtFAR(s.cos, s.same, far)
	if err != nil {
		return compare.Calibration{}, nil, err
	}
	// Anchor the lowest percentage that rounds to 70.00 (Meets accepts it).
	cal, err := calfit.FitAnchored(s.fitCos, s.fitSame, anchor, compare.LowestAccepted(facematch.DefaultThreshold))
	if err != nil {
		return compare.Calibration{}, nil, err
	}
	platt, err := calfit.Fit(s.fitCos, s.fitSame)
	if err != nil {
		return compare.Calibration{}, nil, err
	}
	fmt.Fprintf(w, "pairs %d (%d genuine, %d impostor), %d with no face in an image (left out of the fit)\n", len(s.cos), gen, imp, nf)
	fmt.Fprintf(w, "pipeline: %s\n", s.pipeline)
	fmt.Fprintf(w, "anchor: cosine %.4f accepts at most %.2g of impostor pairs → %.2f%% after rounding\n", anchor, far, 100*facematch.DefaultThreshold)
	fmt.Fprintf(w, "plain Platt fit (reference): A=%.6g B=%.6g (50%% at cosine %.4f)\n\n", platt.A, platt.B, platt.Cosine(50))
	fmt.Fprintf(w, "var Default = Calibration{\n\tA: %v,\n\tB: %v,\n}\n\n", cal.A, cal.B)
	fmt.Fprintln(w, "| threshold | cosine ≥ | FAR (impostor pairs accepted) | FRR (genuine pairs rejected) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var rows []row
	for _, th := range []float64{0.70, 0.80, 0.90, 0.95} {
		fa, fr, err := calfit.Rates(s.cos, s.same, cal, th)
		if err != nil {
			return compare.Calibration{}, nil, err
		}
		rows = append(rows, row{th, cal.MatchCosine(th), fa, fr})
		fmt.Fprintf(w, "| %.2f | %.4f | %.3f%% (%d / %d) | %.2f%% (%d / %d) |\n", th, cal.MatchCosine(th),
			100*fa, int(fa*float64(imp)+0.5), imp, 100*fr, int(fr*float64(gen)+0.5), gen)
	}
	return cal, rows, nil
}
