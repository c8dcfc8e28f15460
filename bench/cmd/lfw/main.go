// Command lfw measures face-verification accuracy end to end on LFW (or any
// labelled pair list): every distinct image goes once through
// facematch.Matcher.Embed — the function Matcher.Compare uses to decode an
// image, choose its face (the largest usable one), align and embed it;
// nothing of the dataset's own alignment — in parallel over the cores, then
// each pair is scored with the cosine similarity (bit-identical to
// Compare's Similarity) and the LFW protocol is applied.
//
// Usage:
//
//	go run ./bench/cmd/lfw --data ../shared/datasets/lfw [flags]
//
// Flags:
//
//	--data DIR         dataset folder (default ../shared/datasets/lfw beside the module)
//	--pairs FILE       LFW pairs.txt or a TSV path1<TAB>path2<TAB>same(0|1)[<TAB>fold]
//	                   with paths relative to --data (default DIR/pairs.txt)
//	--folds N          evaluate only the first N folds (0 = all)
//	--json             print one JSON object instead of the text report
//	--roc OUT.png      draw the ROC curve with gonum/plot
//	--roc-compare FILE also draw the ROC of this scores file (e.g. a --landmarks run), dashed
//	--scores OUT.tsv   write path1, path2, same, fold, cosine, no_face per pair (no_face:
//	                   0, or 1/2/3 when image 1/image 2/both had no face; cosine is then -1)
//	--from-scores FILE evaluate a scores file written by --scores instead of running the pipeline
//	--landmarks FILE   use reference landmarks (JSON lines: id, box, points) instead of detection
//	--pick RULE        compare (default: every image through facematch.Matcher.Embed, the
//	                   function Matcher.Compare uses, so scores are what Compare ships);
//	                   diagnostics: center (the face LFW labels) or largest
//	--no-flip          embed without horizontal-flip test-time augmentation
//	--workers N        parallel images (default GOMAXPROCS)
//
// The report: 10-fold accuracy (threshold chosen on 9 folds, measured on the
// 10th; mean ± population std), ROC AUC, TAR at FAR 1e-2 and 1e-3, the number
// of images where no face was found (their pairs score cosine -1 — never a
// match — and are never dropped), and FAR/FRR at the thresholds 0.70, 0.80,
// 0.90 and 0.95 on the calibrated percentage of compare.Default, rounded and
// decided as Compare decides (compare.Meets).
//
// The per-pair scores (--scores) are what compare.Fit refits the calibration
// from (leave out the rows with no_face != 0: their -1 is a verdict, not a
// similarity). Exit status: 0 on success, 2 on error.
//
// Measured on LFW (6000 pairs, 7701 images, flip TTA, 2 shared cores): see
// the package bench documentation and the README for the current figures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"

	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/bench/internal/pipeline"
	"github.com/facematch/facematch/bench/internal/runner"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/internal/sharedtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lfw:", err)
		}
		os.Exit(2)
	}
}

type config struct {
	data, pairs, roc, rocCompare, scores, fromScores, landmarks, pick string
	folds, workers                                                    int
	json, noFlip                                                      bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("lfw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.data, "data", "", "dataset folder (default ../shared/datasets/lfw beside the module)")
	fs.StringVar(&c.pairs, "pairs", "", "pair list: LFW pairs.txt or TSV path1<TAB>path2<TAB>same[<TAB>fold] (default DATA/pairs.txt)")
	fs.IntVar(&c.folds, "folds", 0, "evaluate only the first N folds (0 = all)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object")
	fs.StringVar(&c.roc, "roc", "", "write a ROC plot to this PNG file")
	fs.StringVar(&c.rocCompare, "roc-compare", "", "scores TSV whose ROC is drawn beside this run's (with --roc)")
	fs.StringVar(&c.scores, "scores", "", "write per-pair scores (TSV) to this file")
	fs.StringVar(&c.fromScores, "from-scores", "", "evaluate this scores TSV instead of running the pipeline")
	fs.StringVar(&c.landmarks, "landmarks", "", "reference landmarks (JSON lines) used instead of detection")
	fs.StringVar(&c.pick, "pick", pipeline.PickShipped, "face to use when several are found: compare (the shipped Matcher.Compare path) or, as a diagnostic, center or largest")
	fs.BoolVar(&c.noFlip, "no-flip", false, "disable horizontal-flip test-time augmentation")
	fs.IntVar(&c.workers, "workers", runtime.GOMAXPROCS(0), "images processed in parallel")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.folds < 0 || c.workers < 1 {
		return nil, fmt.Errorf("--folds must be >= 0 and --workers >= 1")
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var scores *runner.Scores
	desc := ""
	if c.fromScores != "" {
		if scores, err = readScores(c.fromScores, c.folds); err != nil {
			return err
		}
		desc = "scores from " + c.fromScores
	} else {
		if c.data == "" {
			if sh := sharedtest.Find(); sh != "" {
				c.data = filepath.Join(sh, "datasets", "lfw")
			} else {
				return fmt.Errorf("--data is required (no ../shared beside the module)")
			}
		}
		if c.pairs == "" {
			c.pairs = filepath.Join(c.data, "pairs.txt")
		}
		pairs, err := eval.ReadPairs(c.pairs)
		if err != nil {
			return err
		}
		pairs = eval.FirstFolds(pairs, c.folds)
		opts := &pipeline.Options{Pick: c.pick, DisableFlip: c.noFlip, Embedders: c.workers}
		desc = "detector"
		if c.pick == pipeline.PickShipped && c.landmarks == "" && !c.noFlip {
			desc = runner.PipelineShipped
		} else if c.pick != pipeline.PickShipped {
			desc = "detector, diagnostic pick " + c.pick
		}
		if c.landmarks != "" {
			if opts.Landmarks, err = pipeline.LoadLandmarks(c.landmarks, c.data); err != nil {
				return err
			}
			desc = "reference landmarks " + filepath.Base(c.landmarks)
		}
		pl, err := pipeline.New(c.data, opts)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "lfw: %d pairs, %d images, %d workers, landmarks: %s\n", len(pairs), len(eval.Images(pairs)), c.workers, desc)
		if scores, err = runner.Run(ctx, pairs, pl.Embed, &runner.Options{Workers: c.workers, Progress: stderr}); err != nil {
			return err
		}
		scores.Pipeline = desc
	}
	if c.scores != "" {
		if err := writeFile(c.scores, scores.WriteTSV); err != nil {
			return err
		}
	}
	rep, err := runner.Evaluate(scores, compare.Default)
	if err != nil {
		return err
	}
	rep.Landmarks, rep.Flip = desc, !c.noFlip
	if c.fromScores == "" {
		rep.Pick = c.pick
	}
	if c.roc != "" {
		title := "LFW, " + desc
		if c.landmarks == "" && c.fromScores == "" {
			title = "LFW end to end"
		}
		var others []*runner.Report
		var labels []string
		if c.rocCompare != "" {
			o, err := readScores(c.rocCompare, c.folds)
			if err != nil {
				return err
			}
			orep, err := runner.Evaluate(o, compare.Default)
			if err != nil {
				return err
			}
			others, labels = append(others, orep), append(labels, filepath.Base(c.rocCompare))
		}
		if err := rep.PlotROC(c.roc, title, others, labels); err != nil {
			return err
		}
	}
	if c.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(stdout)
}

// readScores reads a scores TSV and keeps its first n folds (0 = all).
func readScores(name string, n int) (*runner.Scores, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := runner.ReadTSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return keepFolds(s, n), nil
}

// keepFolds restricts a scores file to its first n folds.
func keepFolds(s *runner.Scores, n int) *runner.Scores {
	kept := eval.FirstFolds(s.Pairs, n)
	if len(kept) == len(s.Pairs) {
		return s
	}
	keep := map[int]bool{}
	for _, f := range eval.Folds(kept) {
		keep[f] = true
	}
	out := &runner.Scores{Pairs: kept, Images: len(eval.Images(kept)), Pipeline: s.Pipeline}
	for i, p := range s.Pairs {
		if keep[p.Fold] {
			out.Cosine = append(out.Cosine, s.Cosine[i])
			out.NoFace = append(out.NoFace, s.NoFace[i])
		}
	}
	used := map[string]bool{}
	for _, im := range eval.Images(kept) {
		used[im] = true
	}
	for _, im := range s.NoFaceImages {
		if used[im] {
			out.NoFaceImages = append(out.NoFaceImages, im)
		}
	}
	return out
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
