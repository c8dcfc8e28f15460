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
//	                   Both repeat: several lists in one call, the i-th --pairs read
//	                   from the i-th --data (or from the only one given).
//	--folds N          evaluate only the first N folds (0 = all)
//	--json             print one JSON object instead of the text report
//	--roc OUT.png      draw the ROC curve with gonum/plot
//	--roc-compare FILE also draw the ROC of this scores file (e.g. a --landmarks run), dashed
//	--scores OUT.tsv   write path1, path2, same, fold, cosine, no_face per pair (no_face:
//	                   0, or 1/2/3 when image 1/image 2/both had no face; cosine is then -1);
//	                   once per list
//	--embeddings OUT   write each image's embedding (path, ok|no_face|failed, vector),
//	                   once per list: what bench/cmd/calibrate refits the score
//	                   normalisation and the calibration from
//	--from-scores FILE evaluate a scores file written by --scores instead of running the
//	                   pipeline (repeatable)
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
// 0.90 and 0.95 on the calibrated percentage of compare.DefaultCalibration(), rounded and
// decided as Compare decides (compare.Meets).
//
// An image the pipeline refuses (a BMP named .jpg, a truncated file…) is a
// failed image: its pairs count like no-face pairs and the report lists it
// with its reason (JSON "failed", "failed_images"); only an interrupt stops
// the run.
//
// With one list, --json prints that list's report (keys accuracy,
// tar_at_far_1e-3, no_face, calibration, …). With several, it prints
// {"lists": [{"name", "data", "pairs_file", <report keys>}, …], "pooled":
// <report>}, and the text form ends with the FAR/FRR of every list side by
// side at each threshold: how far the threshold's meaning varies.
//
// The per-pair scores (--scores) are what calfit.Fit refits the calibration
// from (leave out the rows with no_face != 0: their -1 is a verdict, not a
// similarity). Exit status: 0 on success, 2 on error.
//
// The dated figures, with the commands that made them, are in BENCHMARKS.md
// (accuracy history) and compare/CALIBRATION.md (per-set rates).
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
	"strings"

	"github.com/facematch/facematch/bench/internal/dataset"
	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/bench/internal/pipeline"
	"github.com/facematch/facematch/bench/internal/runner"
	"github.com/facematch/facematch/compare"
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
	data, pairs, scores, embeddings, fromScores stringList
	roc, rocCompare, landmarks, pick            string
	folds, workers                              int
	json, noFlip                                bool
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("lfw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&c.data, "data", "dataset folder (default ../shared/datasets/lfw beside the module); repeat it to give each --pairs list its own")
	fs.Var(&c.pairs, "pairs", "pair list: LFW pairs.txt or TSV path1<TAB>path2<TAB>same[<TAB>fold] (default DATA/pairs.txt); repeatable")
	fs.IntVar(&c.folds, "folds", 0, "evaluate only the first N folds (0 = all)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object")
	fs.StringVar(&c.roc, "roc", "", "write a ROC plot to this PNG file (first list)")
	fs.StringVar(&c.rocCompare, "roc-compare", "", "scores TSV whose ROC is drawn beside this run's (with --roc)")
	fs.Var(&c.scores, "scores", "write per-pair scores (TSV) to this file; once per list")
	fs.Var(&c.embeddings, "embeddings", "write per-image embeddings (TSV, for bench/cmd/calibrate) to this file; once per list")
	fs.Var(&c.fromScores, "from-scores", "evaluate this scores TSV instead of running the pipeline; repeatable")
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
	if len(c.fromScores) > 0 && (len(c.pairs) > 0 || len(c.data) > 0 || len(c.embeddings) > 0) {
		return nil, fmt.Errorf("--from-scores evaluates scores files: --data, --pairs and --embeddings do not apply")
	}
	n := c.lists()
	if len(c.data) > 1 && len(c.pairs) > 1 && len(c.data) != len(c.pairs) {
		return nil, fmt.Errorf("%d --data folders for %d --pairs lists: give one folder, or one per list", len(c.data), len(c.pairs))
	}
	if len(c.scores) > 0 && len(c.scores) != n {
		return nil, fmt.Errorf("%d --scores files for %d lists: give one per list", len(c.scores), n)
	}
	if len(c.embeddings) > 0 && len(c.embeddings) != n {
		return nil, fmt.Errorf("%d --embeddings files for %d lists: give one per list", len(c.embeddings), n)
	}
	return c, nil
}

// lists is the number of pair lists the call evaluates.
func (c *config) lists() int {
	if len(c.fromScores) > 0 {
		return len(c.fromScores)
	}
	return max(1, len(c.pairs), len(c.data))
}

// scoring says what the per-pair "cosine" of a pipeline run is.
const scoring = "compare.Similarity: the cosine after the bundled score normalisation (weights/calibration.json)"

// listReport is one pair list's report in the JSON of a several-list run.
type listReport struct {
	Name  string `json:"name"`
	Data  string `json:"data,omitempty"`
	Pairs string `json:"pairs_file"`
	*runner.Report
}

// multiReport is the JSON of a run over several pair lists: one report per
// list, and the pairs of all lists pooled (its accuracy uses the lists'
// folds, renumbered apart).
type multiReport struct {
	Lists  []listReport   `json:"lists"`
	Pooled *runner.Report `json:"pooled"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	n := c.lists()
	var (
		all   []*runner.Scores
		lists []listReport
	)
	for i := 0; i < n; i++ {
		var scores *runner.Scores
		var lr listReport
		desc := ""
		if len(c.fromScores) > 0 {
			if scores, err = readScores(c.fromScores[i], c.folds); err != nil {
				return err
			}
			desc = "scores from " + c.fromScores[i]
			lr.Pairs, lr.Name = c.fromScores[i], strings.TrimSuffix(filepath.Base(c.fromScores[i]), filepath.Ext(c.fromScores[i]))
		} else {
			if scores, desc, err = c.runList(ctx, i, &lr, stderr); err != nil {
				return err
			}
			if len(c.scores) > 0 {
				if err := writeFile(c.scores[i], scores.WriteTSV); err != nil {
					return err
				}
			}
			if len(c.embeddings) > 0 {
				if err := writeFile(c.embeddings[i], scores.WriteEmbeddings); err != nil {
					return err
				}
			}
		}
		rep, err := runner.Evaluate(scores, compare.DefaultCalibration())
		if err != nil {
			return fmt.Errorf("%s: %w", lr.Pairs, err)
		}
		rep.Landmarks, rep.Flip = desc, !c.noFlip
		if len(c.fromScores) == 0 {
			rep.Pick = c.pick
			rep.Scoring = scoring
		}
		if i == 0 && c.roc != "" {
			if err := c.plot(rep, desc); err != nil {
				return err
			}
		}
		lr.Report = rep
		lists = append(lists, lr)
		all = append(all, scores)
	}
	if n == 1 {
		if c.json {
			return writeJSON(stdout, lists[0].Report)
		}
		return lists[0].WriteText(stdout)
	}
	var names []string
	for _, l := range lists {
		names = append(names, l.Name)
	}
	pooled, err := runner.Evaluate(runner.Pool(all, names), compare.DefaultCalibration())
	if err != nil {
		return fmt.Errorf("pooled lists: %w", err)
	}
	pooled.Landmarks = "pooled lists"
	if c.json {
		return writeJSON(stdout, &multiReport{Lists: lists, Pooled: pooled})
	}
	for _, l := range lists {
		fmt.Fprintf(stdout, "== %s (%s)\n", l.Name, l.Pairs)
		if err := l.WriteText(stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "== pooled: %d lists\n", n)
	if err := pooled.WriteText(stdout); err != nil {
		return err
	}
	return writeFARTable(stdout, lists)
}

// runList runs the pipeline over pair list i.
func (c *config) runList(ctx context.Context, i int, lr *listReport, stderr io.Writer) (*runner.Scores, string, error) {
	data := ""
	switch {
	case len(c.data) == 1:
		data = c.data[0]
	case i < len(c.data):
		data = c.data[i]
	default:
		if data = dataset.Dir("lfw"); data == "" {
			return nil, "", fmt.Errorf("--data is required (no ../shared beside the module)")
		}
	}
	pairsFile := filepath.Join(data, "pairs.txt")
	if i < len(c.pairs) {
		pairsFile = c.pairs[i]
	}
	lr.Name, lr.Data, lr.Pairs = filepath.Base(filepath.Clean(data)), data, pairsFile
	pairs, err := eval.ReadPairs(pairsFile)
	if err != nil {
		return nil, "", err
	}
	pairs = eval.FirstFolds(pairs, c.folds)
	opts := &pipeline.Options{Pick: c.pick, DisableFlip: c.noFlip, Embedders: c.workers}
	desc := "detector"
	if c.pick == pipeline.PickShipped && c.landmarks == "" && !c.noFlip {
		desc = runner.PipelineShipped
	} else if c.pick != pipeline.PickShipped {
		desc = "detector, diagnostic pick " + c.pick
	}
	if c.landmarks != "" {
		if opts.Landmarks, err = pipeline.LoadLandmarks(c.landmarks, data); err != nil {
			return nil, "", err
		}
		desc = "reference landmarks " + filepath.Base(c.landmarks)
	}
	pl, err := pipeline.New(data, opts)
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(stderr, "lfw: %s: %d pairs, %d images, %d workers, landmarks: %s\n", pairsFile, len(pairs), len(eval.Images(pairs)), c.workers, desc)
	s, err := runner.Run(ctx, pairs, pl.Embed, &runner.Options{Workers: c.workers, Progress: stderr})
	if err != nil {
		return nil, "", err
	}
	s.Pipeline = desc
	return s, desc, nil
}

// plot draws the ROC of rep (and of --roc-compare) to --roc.
func (c *config) plot(rep *runner.Report, desc string) error {
	title := "LFW, " + desc
	if c.landmarks == "" && len(c.fromScores) == 0 {
		title = "LFW end to end"
	}
	var others []*runner.Report
	var labels []string
	if c.rocCompare != "" {
		o, err := readScores(c.rocCompare, c.folds)
		if err != nil {
			return err
		}
		orep, err := runner.Evaluate(o, compare.DefaultCalibration())
		if err != nil {
			return err
		}
		others, labels = append(others, orep), append(labels, filepath.Base(c.rocCompare))
	}
	return rep.PlotROC(c.roc, title, others, labels)
}

// writeFARTable prints, per threshold, the false accepts and rejects of
// every list side by side: how far the threshold's meaning varies.
func writeFARTable(w io.Writer, lists []listReport) error {
	var b strings.Builder
	b.WriteString("per list         FAR / FRR at each threshold\n  threshold")
	for _, l := range lists {
		fmt.Fprintf(&b, "  %-22s", l.Name)
	}
	b.WriteString("\n")
	for k, t := range eval.CalibrationThresholds() {
		fmt.Fprintf(&b, "  %.2f     ", t)
		for _, l := range lists {
			r := l.Calibration[k]
			fmt.Fprintf(&b, "  %7.3f%% / %7.3f%%    ", 100*r.FAR, 100*r.FRR)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
