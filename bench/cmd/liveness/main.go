// Command liveness measures the passive-liveness check (facematch's
// Matcher.Liveness: detect → map the box → MiniFASNetV2 + MiniFASNetV1SE) on
// any folder of bona fide and attack photos, with the ISO/IEC 30107-3
// metrics.
//
// Usage:
//
//	go run ./bench/cmd/liveness --data DIR [flags]
//
// DIR holds real/ (bona fide: live people in front of the camera) and one
// or more other folders of attacks, each an attack type (print/, screen/,
// ...); JPEG and PNG files, searched recursively.
//
// Flags:
//
//	--data DIR          the folder (required)
//	--threshold T       live/attack cut on the score (default liveness.DefaultThreshold)
//	--bpcer-target F    also print the threshold the default was chosen by: the largest
//	                    that rejects at most F of the bona fide images (e.g. 0.02)
//	--every N           use every Nth image of each folder, in name order (a subset for speed)
//	--json              print one JSON object instead of the text report
//	--scores OUT.tsv    write path, class, score per image (score -1: no face)
//	--from-scores FILE  evaluate a scores file written by --scores instead of running the models
//	--workers N         parallel images (default 1: the machine is shared)
//
// The report: APCER (attacks accepted as live) overall and per attack type,
// BPCER (bona fide rejected), ACER (their mean), each with its Wilson 95 %
// interval (for ACER, the mean of the two intervals' bounds), and the ROC
// AUC of the score. An image where no face is found scores -1: it is never
// live, so it counts against BPCER and for APCER's rejections; the count is
// reported. JSON keys: apcer, bpcer, acer, auc, images, threshold, plus
// apcer_ci95, bpcer_ci95, acer_ci95, no_face, per_attack and, with
// --bpcer-target, chosen_threshold. Exit status: 0 on success, 2 on error.
//
// What it measures is what the check is for: presentation attacks by a
// printed photo or a screen, on a single frame. It says nothing about masks,
// or about deepfakes injected into the camera feed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/liveness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "liveness:", err)
		}
		os.Exit(2)
	}
}

type config struct {
	data, scores, fromScores string
	threshold, target        float64
	every, workers           int
	json                     bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("liveness", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.data, "data", "", "folder with real/ and attack folders")
	fs.Float64Var(&c.threshold, "threshold", liveness.DefaultThreshold, "live/attack cut on the score")
	fs.Float64Var(&c.target, "bpcer-target", 0, "print the largest threshold with BPCER <= this")
	fs.IntVar(&c.every, "every", 1, "use every Nth image of each folder")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	fs.StringVar(&c.scores, "scores", "", "write per-image scores (TSV)")
	fs.StringVar(&c.fromScores, "from-scores", "", "evaluate a scores file instead of running the models")
	fs.IntVar(&c.workers, "workers", 1, "parallel images")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.data == "" && c.fromScores == "":
		return nil, errors.New("--data is required")
	case !(c.threshold > 0 && c.threshold <= 1):
		return nil, fmt.Errorf("--threshold %v outside (0, 1]", c.threshold)
	case c.target < 0 || c.target >= 1:
		return nil, fmt.Errorf("--bpcer-target %v outside [0, 1)", c.target)
	case c.every < 1 || c.workers < 1:
		return nil, errors.New("--every and --workers must be at least 1")
	}
	return c, nil
}

// listImages returns the images of dir: real/ is bona fide, every other
// top-level folder an attack type.
func listImages(dir string, every int) ([]sample, error) {
	tops, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []sample
	hasReal, hasAttack := false, false
	for _, top := range tops {
		if !top.IsDir() {
			continue
		}
		var files []string
		err := filepath.WalkDir(filepath.Join(dir, top.Name()), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".jpg", ".jpeg", ".png":
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		attack := top.Name()
		if attack == "real" {
			attack, hasReal = "", len(files) > 0
		} else if len(files) > 0 {
			hasAttack = true
		}
		for i := 0; i < len(files); i += every {
			out = append(out, sample{path: files[i], attack: attack})
		}
	}
	if !hasReal || !hasAttack {
		return nil, fmt.Errorf("%s needs a real/ folder and at least one attack folder with images", dir)
	}
	return out, nil
}

func score(ctx context.Context, s []sample, workers int, stderr io.Writer) error {
	m, err := facematch.New(nil)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
		errs = make([]error, len(s))
		sem  = make(chan struct{}, workers)
	)
	for i := range s {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, err := m.Liveness(ctx, facematch.File(s[i].path))
			switch {
			case errors.Is(err, facematch.ErrNoFace):
				s[i].score = -1
			case err != nil:
				errs[i] = fmt.Errorf("%s: %w", s[i].path, err)
			default:
				s[i].score = r.Score
			}
			mu.Lock()
			done++
			if done%50 == 0 {
				fmt.Fprintf(stderr, "%d/%d images\n", done, len(s))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func writeScores(name string, s []sample) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "path\tclass\tscore")
	for _, x := range s {
		class := x.attack
		if class == "" {
			class = "real"
		}
		fmt.Fprintf(w, "%s\t%s\t%.6f\n", x.path, class, x.score)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readScores(name string) ([]sample, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []sample
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 3", name, i+1, len(f))
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
		}
		x := sample{path: f[0], attack: f[1], score: v}
		if x.attack == "real" {
			x.attack = ""
		}
		out = append(out, x)
	}
	return out, nil
}

type report struct {
	APCER           float64          `json:"apcer"`
	BPCER           float64          `json:"bpcer"`
	ACER            float64          `json:"acer"`
	AUC             float64          `json:"auc"`
	Images          int              `json:"images"`
	Threshold       float64          `json:"threshold"`
	APCERCI         [2]float64       `json:"apcer_ci95"`
	BPCERCI         [2]float64       `json:"bpcer_ci95"`
	ACERCI          [2]float64       `json:"acer_ci95"`
	BonaFide        int              `json:"bona_fide"`
	Attacks         int              `json:"attacks"`
	NoFace          int              `json:"no_face"`
	PerAttack       map[string]rate  `json:"per_attack"`
	ChosenThreshold *float64         `json:"chosen_threshold,omitempty"`
	BPCERTarget     *float64         `json:"bpcer_target,omitempty"`
	ChosenRates     *map[string]rate `json:"chosen_rates,omitempty"`
}

func evaluate(s []sample, c *config) report {
	apcer, bpcer := errorRates(s, c.threshold)
	r := report{
		APCER: apcer.Value, BPCER: bpcer.Value, ACER: (apcer.Value + bpcer.Value) / 2, AUC: auc(s),
		Images: len(s), Threshold: c.threshold, APCERCI: apcer.CI95, BPCERCI: bpcer.CI95,
		ACERCI:   [2]float64{(apcer.CI95[0] + bpcer.CI95[0]) / 2, (apcer.CI95[1] + bpcer.CI95[1]) / 2},
		BonaFide: bpcer.N, Attacks: apcer.N, PerAttack: map[string]rate{},
	}
	byType := map[string][]sample{}
	for _, x := range s {
		if x.score < 0 {
			r.NoFace++
		}
		if !x.live() {
			byType[x.attack] = append(byType[x.attack], x)
		}
	}
	for k, v := range byType {
		a, _ := errorRates(v, c.threshold)
		r.PerAttack[k] = a
	}
	if c.target > 0 {
		th := thresholdForBPCER(s, c.target)
		a, b := errorRates(s, th)
		rates := map[string]rate{"apcer": a, "bpcer": b}
		r.ChosenThreshold, r.BPCERTarget, r.ChosenRates = &th, &c.target, &rates
	}
	return r
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + " %" }

func ci(c [2]float64) string { return fmt.Sprintf("[%s, %s]", pct(c[0]), pct(c[1])) }

func printReport(w io.Writer, r report) {
	fmt.Fprintf(w, "images %d (bona fide %d, attacks %d; no face %d), threshold %.4f\n", r.Images, r.BonaFide, r.Attacks, r.NoFace, r.Threshold)
	fmt.Fprintf(w, "APCER %s %s\n", pct(r.APCER), ci(r.APCERCI))
	keys := make([]string, 0, len(r.PerAttack))
	for k := range r.PerAttack {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := r.PerAttack[k]
		fmt.Fprintf(w, "  %-10s %s %s (%d/%d)\n", k, pct(a.Value), ci(a.CI95), a.Errs, a.N)
	}
	fmt.Fprintf(w, "BPCER %s %s\n", pct(r.BPCER), ci(r.BPCERCI))
	fmt.Fprintf(w, "ACER  %s %s\n", pct(r.ACER), ci(r.ACERCI))
	fmt.Fprintf(w, "AUC   %.5f\n", r.AUC)
	if r.ChosenThreshold != nil {
		cr := *r.ChosenRates
		fmt.Fprintf(w, "largest threshold with BPCER <= %s: %.6f (APCER %s, BPCER %s)\n", pct(*r.BPCERTarget), *r.ChosenThreshold, pct(cr["apcer"].Value), pct(cr["bpcer"].Value))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var s []sample
	if c.fromScores != "" {
		if s, err = readScores(c.fromScores); err != nil {
			return err
		}
	} else {
		if s, err = listImages(c.data, c.every); err != nil {
			return err
		}
		if err := score(ctx, s, c.workers, stderr); err != nil {
			return err
		}
		if c.scores != "" {
			if err := writeScores(c.scores, s); err != nil {
				return err
			}
		}
	}
	r := evaluate(s, c)
	if c.json {
		if math.IsNaN(r.AUC) {
			r.AUC = 0
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printReport(stdout, r)
	return nil
}
