// Command facepolicy measures what the face-choice policy of
// facematch.Matcher.Compare costs in false accepts: the default (each
// image's largest face) against CompareOptions.BestFace (image1's face
// against every face of image2, the best kept).
//
// Usage:
//
//	go run ./bench/cmd/facepolicy --data ../shared/datasets/lfw --scores lfw-scores.tsv [flags]
//
// Two measurements, both through Matcher.Compare:
//
//  1. LFW impostor pairs. The default's verdicts come from --scores (the
//     shipped-path scores file of bench/cmd/lfw, whose cosines are
//     bit-identical to Compare's). For every impostor pair whose image2
//     holds two or more faces, Compare is run again with BestFace; on the
//     other impostor pairs BestFace compares the same single face, so its
//     verdict is the default's.
//  2. Synthetic collages. For --collages reference images (image1 of the
//     first impostor pairs), image2 is a grid of k LFW photos of k other
//     people (k from --collage-faces); Compare runs with both policies.
//
// The report gives accepted impostor pairs at the thresholds 0.70, 0.80,
// 0.90 and 0.95 for each policy. Exit status: 0 on success, 2 on error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/bench/internal/runner"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/internal/imageio"
)

var thresholds = []float64{0.70, 0.80, 0.90, 0.95}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "facepolicy:", err)
		}
		os.Exit(2)
	}
}

type config struct {
	data, pairs, scores string
	collages, workers   int
	collageFaces        []int
	lfw                 bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	var faces string
	fs := flag.NewFlagSet("facepolicy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.data, "data", "../shared/datasets/lfw", "dataset folder")
	fs.StringVar(&c.pairs, "pairs", "", "pair list (default DATA/pairs.txt)")
	fs.StringVar(&c.scores, "scores", "", "shipped-path scores TSV of bench/cmd/lfw for the same pairs (required)")
	fs.IntVar(&c.collages, "collages", 200, "collage trials per face count (0 = none)")
	fs.StringVar(&faces, "collage-faces", "4,9", "faces per collage, comma-separated")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "comparisons run at once")
	fs.BoolVar(&c.lfw, "lfw", true, "measure the LFW impostor pairs (--lfw=false: collages only)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 || c.scores == "" || c.workers < 1 || c.collages < 0 {
		return nil, fmt.Errorf("usage: facepolicy --data DIR --scores FILE [--pairs FILE] [--collages N] [--collage-faces 4,9] [--workers N]")
	}
	for _, f := range strings.Split(faces, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 2 || k > 36 {
			return nil, fmt.Errorf("--collage-faces: %q is not a number in [2, 36]", f)
		}
		c.collageFaces = append(c.collageFaces, k)
	}
	if c.pairs == "" {
		c.pairs = filepath.Join(c.data, "pairs.txt")
	}
	return c, nil
}

// tally counts accepts at each threshold.
type tally struct {
	n, multiple int
	accepts     [4]int
}

func (t *tally) add(res *facematch.Result) {
	t.n++
	if res.MultipleFaces {
		t.multiple++
	}
	for i, th := range thresholds {
		if compare.Meets(res.Percentage, th) {
			t.accepts[i]++
		}
	}
}

func (t *tally) addPercentage(p float64) {
	t.n++
	for i, th := range thresholds {
		if compare.Meets(p, th) {
			t.accepts[i]++
		}
	}
}

func (t tally) row(name string, total int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-34s", name)
	for _, a := range t.accepts {
		fmt.Fprintf(&b, " %5d (%6.3f%%)", a, 100*float64(a)/float64(max(total, 1)))
	}
	return b.String()
}

func header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-34s", "policy")
	for _, th := range thresholds {
		fmt.Fprintf(&b, "   accepted @%.2f", th)
	}
	return b.String()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	pairs, err := eval.ReadPairs(c.pairs)
	if err != nil {
		return err
	}
	f, err := os.Open(c.scores)
	if err != nil {
		return err
	}
	scores, err := runner.ReadTSV(f)
	f.Close()
	if err != nil {
		return err
	}
	if scores.Pipeline != runner.PipelineShipped {
		return fmt.Errorf("%s: scores of pipeline %q, want the shipped path", c.scores, scores.Pipeline)
	}
	cosine := map[[2]string]float64{}
	noFace := map[[2]string]bool{}
	for i, p := range scores.Pairs {
		cosine[[2]string{p.A, p.B}] = scores.Cosine[i]
		noFace[[2]string{p.A, p.B}] = scores.NoFace[i]
	}
	m, err := facematch.New(nil)
	if err != nil {
		return err
	}

	// 1. LFW impostor pairs.
	var imp []eval.Pair
	for _, p := range pairs {
		if !p.Same {
			if _, ok := cosine[[2]string{p.A, p.B}]; !ok {
				return fmt.Errorf("pair %s / %s is not in %s", p.A, p.B, c.scores)
			}
			imp = append(imp, p)
		}
	}
	if c.lfw {
		if err := lfwImpostors(ctx, c, m, imp, cosine, noFace, stdout, stderr); err != nil {
			return err
		}
	}
	return collages(ctx, c, m, pairs, imp, stdout, stderr)
}

// lfwImpostors reports the accepted impostor pairs of both policies.
func lfwImpostors(ctx context.Context, c *config, m *facematch.Matcher, imp []eval.Pair, cosine map[[2]string]float64, noFace map[[2]string]bool, stdout, stderr io.Writer) error {
	cal := m.Calibration()
	path := func(rel string) string { return filepath.Join(c.data, filepath.FromSlash(rel)) }
	faceCount := map[string]int{}
	var mu sync.Mutex
	var imgs []string
	for _, p := range imp {
		if _, ok := faceCount[p.B]; !ok {
			faceCount[p.B] = 0
			imgs = append(imgs, p.B)
		}
	}
	fmt.Fprintf(stderr, "facepolicy: detecting faces in %d image2s of %d impostor pairs\n", len(imgs), len(imp))
	err := parallel(ctx, len(imgs), c.workers, func(i int) error {
		_, faces, err := m.Detect(ctx, facematch.File(path(imgs[i])))
		if err != nil {
			return err
		}
		mu.Lock()
		faceCount[imgs[i]] = len(faces)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	var multi []eval.Pair
	var defAll, bestAll, defMulti, bestMulti tally
	for _, p := range imp {
		k := [2]string{p.A, p.B}
		pct := math.Inf(-1) // a pair with a no-face image is never accepted
		if !noFace[k] {
			pct = compare.RoundPercentage(cal.Percentage(cosine[k]))
		}
		defAll.addPercentage(pct)
		if faceCount[p.B] >= 2 && !noFace[k] {
			multi = append(multi, p)
			defMulti.addPercentage(pct)
		}
	}
	fmt.Fprintf(stderr, "facepolicy: %d impostor pairs with several faces in image2: Compare with BestFace\n", len(multi))
	bestPct := make([]float64, len(multi))
	err = parallel(ctx, len(multi), c.workers, func(i int) error {
		res, err := m.Compare(ctx, facematch.File(path(multi[i].A)), facematch.File(path(multi[i].B)), &facematch.CompareOptions{BestFace: true})
		if err != nil {
			return fmt.Errorf("%s / %s: %w", multi[i].A, multi[i].B, err)
		}
		bestPct[i] = res.Percentage
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range bestPct {
		bestMulti.addPercentage(p)
	}
	// BestFace differs from the default only on the multi-face pairs.
	bestAll = defAll
	for i := range thresholds {
		bestAll.accepts[i] += bestMulti.accepts[i] - defMulti.accepts[i]
	}
	fmt.Fprintf(stdout, "LFW impostor pairs (%s): %d, of which %d have 2+ faces in image2\n", c.pairs, len(imp), len(multi))
	fmt.Fprintln(stdout, header())
	fmt.Fprintln(stdout, defAll.row("default (largest face), all", len(imp)))
	fmt.Fprintln(stdout, bestAll.row("--best-face, all", len(imp)))
	fmt.Fprintln(stdout, defMulti.row("default, image2 with 2+ faces", len(multi)))
	fmt.Fprintln(stdout, bestMulti.row("--best-face, image2 with 2+ faces", len(multi)))
	return nil
}

// collages reports both policies on grids of k photos of other people.
func collages(ctx context.Context, c *config, m *facematch.Matcher, pairs, imp []eval.Pair, stdout, stderr io.Writer) error {
	if c.collages == 0 {
		return nil
	}
	path := func(rel string) string { return filepath.Join(c.data, filepath.FromSlash(rel)) }
	people := map[string][]string{}
	var names []string
	for _, im := range eval.Images(pairs) {
		n := filepath.Dir(filepath.FromSlash(im))
		if _, ok := people[n]; !ok {
			names = append(names, n)
		}
		people[n] = append(people[n], im)
	}
	for _, k := range c.collageFaces {
		trials := min(c.collages, len(imp))
		var def, best tally
		defs := make([]*facematch.Result, trials)
		bests := make([]*facematch.Result, trials)
		fmt.Fprintf(stderr, "facepolicy: %d collages of %d faces\n", trials, k)
		err := parallel(ctx, trials, c.workers, func(i int) error {
			ref := imp[i].A
			own := filepath.Dir(filepath.FromSlash(ref))
			var tiles []string
			for j := 0; len(tiles) < k; j++ {
				n := names[(i*k+j*7919)%len(names)]
				if n != own && !contains(tiles, people[n][0]) {
					tiles = append(tiles, people[n][0])
				}
			}
			col, err := collage(path, tiles)
			if err != nil {
				return err
			}
			if defs[i], err = m.Compare(ctx, facematch.File(path(ref)), facematch.Image(col), nil); err != nil {
				var ie *facematch.ImageError
				if errors.Is(err, facematch.ErrNoFace) && errors.As(err, &ie) && ie.Image == 1 {
					defs[i] = nil // the reference has no face: not a trial
					return nil
				}
				return fmt.Errorf("collage %d: %w", i, err)
			}
			if bests[i], err = m.Compare(ctx, facematch.File(path(ref)), facematch.Image(col), &facematch.CompareOptions{BestFace: true}); err != nil {
				return fmt.Errorf("collage %d: %w", i, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range defs {
			if defs[i] != nil {
				def.add(defs[i])
				best.add(bests[i])
			}
		}
		fmt.Fprintf(stdout, "\nCollages of %d LFW photos of other people (%d trials; MultipleFaces set in %d)\n", k, def.n, def.multiple)
		fmt.Fprintln(stdout, header())
		fmt.Fprintln(stdout, def.row("default (largest face)", def.n))
		fmt.Fprintln(stdout, best.row("--best-face", def.n))
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// collage tiles the images in a square grid at their own size (LFW: 250x250).
func collage(path func(string) string, tiles []string) (*image.RGBA, error) {
	cols := int(math.Ceil(math.Sqrt(float64(len(tiles)))))
	rows := (len(tiles) + cols - 1) / cols
	var decoded []image.Image
	w, h := 0, 0
	for _, t := range tiles {
		data, err := os.ReadFile(path(t))
		if err != nil {
			return nil, err
		}
		img, _, err := imageio.Decode(data, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		decoded = append(decoded, img)
		w, h = max(w, img.Bounds().Dx()), max(h, img.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, cols*w, rows*h))
	for i, img := range decoded {
		at := image.Pt(i%cols*w, i/cols*h)
		draw.Draw(out, img.Bounds().Sub(img.Bounds().Min).Add(at), img, img.Bounds().Min, draw.Src)
	}
	return out, nil
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
