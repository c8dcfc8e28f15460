// Command calibrate refits, from per-image embeddings of several
// identity-labelled sets, the score normalisation bundled in
// weights/calibration.json and the calibration compare.DefaultCalibration(), and measures
// every normalisation variant on every set with identities held out.
//
// Produce the embeddings with the accuracy tool (one file per pair list),
// then refit:
//
//	go run ./bench/cmd/lfw \
//	  --data ../shared/datasets/lfw    --pairs ../shared/datasets/lfw/pairs.txt   --embeddings /tmp/emb-lfw.tsv \
//	  --data ../shared/datasets/orl    --pairs ../shared/datasets/orl/pairs.tsv   --embeddings /tmp/emb-orl.tsv \
//	  --data ../shared/datasets/kpop13 --pairs ../shared/datasets/kpop13/pairs.tsv --embeddings /tmp/emb-kpop13.tsv
//	go run ./bench/cmd/calibrate \
//	  --set lfw=/tmp/emb-lfw.tsv,../shared/datasets/lfw/pairs.txt \
//	  --set orl=/tmp/emb-orl.tsv,../shared/datasets/orl/pairs.tsv \
//	  --set kpop13=/tmp/emb-kpop13.tsv,../shared/datasets/kpop13/pairs.tsv \
//	  --write
//
// An image's identity is the first element of its path (LFW's person
// folder, ORL's subject, kpop13's singer).
//
// # Held-out measurement
//
// Every variant is measured twice, never on identities it was fitted on:
//
//   - identity halves: each set's identities are split in two groups (by
//     fold parity when the set's folds are identity-disjoint, as LFW's and
//     ORL's are, else by the sorted identity list's parity); the statistic
//     is fitted on all sets minus one group and scores the pairs whose two
//     identities are both in that group (pairs across the groups are left
//     out);
//   - leave one set out: fitted on the other sets only, scoring every pair
//     of the set left out.
//
// For each protocol the tool prints, per set, the ROC AUC and the FAR at
// the threshold where LFW accepts 97 % of its genuine pairs, and the LFW
// genuine-accept rate at the strictest threshold the goals ask for (LFW
// FAR ≤ 0.1 %, every other set ≤ 1 %): the frontier of what the model can
// reach.
//
// # Fit
//
// With --write, the variant named by --variant is fitted on every image of
// every set and written to --out; the calibration is fitted on the pooled
// pairs (see fitCalibration) and printed as Go constants with the FAR/FRR
// table of every set.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/bench/internal/runner"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "calibrate:", err)
		}
		os.Exit(2)
	}
}

// labelled is one identity-labelled set: its images and pairs.
type labelled struct {
	name   string
	images map[string]*image
	pairs  []eval.Pair
	group  map[string]int // identity → held-out group 0 or 1
}

type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func identity(p string) string {
	if i := strings.IndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return path.Dir(p)
}

func load(spec string) (*labelled, error) {
	name, files, ok := strings.Cut(spec, "=")
	embFile, pairsFile, ok2 := strings.Cut(files, ",")
	if !ok || !ok2 || name == "" {
		return nil, fmt.Errorf("--set %q: want NAME=EMBEDDINGS.tsv,PAIRS", spec)
	}
	f, err := os.Open(embFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	embs, err := runner.ReadEmbeddings(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", embFile, err)
	}
	pairs, err := eval.ReadPairs(pairsFile)
	if err != nil {
		return nil, err
	}
	s := &labelled{name: name, images: map[string]*image{}, pairs: pairs, group: map[string]int{}}
	for _, e := range embs {
		im := &image{set: name, id: identity(e.Path)}
		if e.Embedding != nil {
			im.vec = make([]float64, len(e.Embedding))
			for i, v := range e.Embedding {
				im.vec[i] = float64(v)
			}
		}
		s.images[e.Path] = im
	}
	for _, p := range pairs {
		for _, q := range []string{p.A, p.B} {
			if s.images[q] == nil {
				return nil, fmt.Errorf("%s: image %s of %s is not in the embeddings file", name, q, pairsFile)
			}
		}
	}
	// Groups: fold parity when every identity lives in one fold.
	fold := map[string]int{}
	disjoint := len(eval.Folds(pairs)) > 1
	for _, p := range pairs {
		for _, q := range []string{p.A, p.B} {
			id := identity(q)
			if f, ok := fold[id]; ok && f != p.Fold {
				disjoint = false
			}
			fold[id] = p.Fold
		}
	}
	ids := sortedKeys(fold)
	for i, id := range ids {
		if disjoint {
			s.group[id] = fold[id] % 2
		} else {
			s.group[id] = i % 2
		}
	}
	return s, nil
}

// trainImages returns the images of sets for which keep(set, identity) holds.
func trainImages(sets []*labelled, keep func(set, id string) bool) []image {
	var out []image
	for _, s := range sets {
		for _, p := range sortedKeys(s.images) {
			im := s.images[p]
			if keep(s.name, im.id) {
				out = append(out, *im)
			}
		}
	}
	return out
}

// noFaceScore is the score of a pair with an image where no face was found:
// below anything a variant gives, never a match.
const noFaceScore = -1000.0

// scored is a set's pair scores under one fit.
type scored struct {
	score  []float64
	same   []bool
	noFace []bool
	fold   []int
}

func (s *scored) add(sc float64, same, noFace bool) {
	s.score, s.same, s.noFace = append(s.score, sc), append(s.same, same), append(s.noFace, noFace)
}

// foldPairs wraps fold numbers as pairs for eval.Folds.
func foldPairs(folds []int) []eval.Pair {
	out := make([]eval.Pair, len(folds))
	for i, f := range folds {
		out[i].Fold = f
	}
	return out
}

// scorePairs scores the pairs of s for which keep holds with sc.
func scorePairs(s *labelled, sc scorer, keep func(p eval.Pair) bool, out *scored) {
	cache := map[string]prepared{}
	prep := func(q string) (prepared, bool) {
		im := s.images[q]
		if im.vec == nil {
			return prepared{}, false
		}
		if p, ok := cache[q]; ok {
			return p, true
		}
		p := sc(im.vec)
		cache[q] = p
		return p, true
	}
	for _, p := range s.pairs {
		if !keep(p) {
			continue
		}
		a, okA := prep(p.A)
		b, okB := prep(p.B)
		out.fold = append(out.fold, p.Fold)
		if !okA || !okB {
			out.add(noFaceScore, p.Same, true)
			continue
		}
		out.add(score(a, b), p.Same, false)
	}
}

// heldOut scores every set under the two protocols for variant v.
func heldOut(sets []*labelled, v variant) (halves, leaveOut map[string]*scored) {
	halves, leaveOut = map[string]*scored{}, map[string]*scored{}
	for _, s := range sets {
		halves[s.name], leaveOut[s.name] = &scored{}, &scored{}
	}
	for g := 0; g < 2; g++ {
		sc := v.fit(trainImages(sets, func(set, id string) bool {
			for _, s := range sets {
				if s.name == set {
					return s.group[id] != g
				}
			}
			return false
		}))
		for _, s := range sets {
			scorePairs(s, sc, func(p eval.Pair) bool {
				return s.group[identity(p.A)] == g && s.group[identity(p.B)] == g
			}, halves[s.name])
		}
	}
	for _, s := range sets {
		sc := v.fit(trainImages(sets, func(set, _ string) bool { return set != s.name }))
		scorePairs(s, sc, func(eval.Pair) bool { return true }, leaveOut[s.name])
	}
	return halves, leaveOut
}

// targetFAR is the goal's false-accept rate for a set: 0.1 % on LFW, 1 %
// elsewhere.
func targetFAR(set string) float64 {
	if set == "lfw" {
		return 0.001
	}
	return 0.01
}

// rates returns the FAR and the genuine-accept rate of s at threshold t.
func rates(s *scored, t float64) (far, gar float64) {
	var np, nn, fa, ga int
	for i, x := range s.score {
		if s.same[i] {
			np++
			if x >= t {
				ga++
			}
		} else {
			nn++
			if x >= t {
				fa++
			}
		}
	}
	return float64(fa) / float64(max(nn, 1)), float64(ga) / float64(max(np, 1))
}

// thresholdAtGAR returns the highest threshold at which a fraction q of the
// genuine pairs of s are accepted.
func thresholdAtGAR(s *scored, q float64) float64 {
	var g []float64
	for i, x := range s.score {
		if s.same[i] {
			g = append(g, x)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(g)))
	k := int(q*float64(len(g))+0.999999) - 1
	return g[max(0, min(k, len(g)-1))]
}

// thresholdAtFAR is the lowest threshold accepting at most a fraction far of
// the impostor pairs of s.
func thresholdAtFAR(s *scored, far float64) float64 {
	var imp []float64
	for i, x := range s.score {
		if !s.same[i] {
			imp = append(imp, x)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(imp)))
	k := min(int(far*float64(len(imp))), len(imp)-1)
	return imp[k] + 1e-9
}

// goalThreshold is the strictest threshold the goal asks for: every set at
// or below its target FAR.
func goalThreshold(sc map[string]*scored) float64 {
	t := -1e300
	for name, s := range sc {
		t = max(t, thresholdAtFAR(s, targetFAR(name)))
	}
	return t
}

func writeProtocol(w io.Writer, names []string, label string, sc map[string]*scored) {
	lfw := sc["lfw"]
	fmt.Fprintf(w, "  %-14s", label)
	for _, n := range names {
		var fs []float64
		var fl []bool
		for i, x := range sc[n].score {
			if !sc[n].noFace[i] {
				fs, fl = append(fs, x), append(fl, sc[n].same[i])
			}
		}
		auc, _ := eval.AUC(fs, fl)
		fmt.Fprintf(w, " %s AUC %.4f (%d pairs with both faces)", n, auc, len(fs))
		if folds := sc[n].fold; len(eval.Folds(foldPairs(folds))) > 1 {
			if kf, err := eval.KFold(sc[n].score, sc[n].same, folds); err == nil {
				fmt.Fprintf(w, " %d-fold accuracy %.2f %%", len(kf.Folds), 100*kf.Mean)
			}
		}
	}
	fmt.Fprintln(w)
	if lfw == nil {
		return
	}
	for _, q := range []float64{0.98, 0.97, 0.95} {
		t := thresholdAtGAR(lfw, q)
		fmt.Fprintf(w, "  %-14s at LFW genuine-accept %.0f %%: FAR / genuine accepted", "", 100*q)
		for _, n := range names {
			far, gar := rates(sc[n], t)
			fmt.Fprintf(w, "; %s %.3f %% / %.2f %%", n, 100*far, 100*gar)
		}
		fmt.Fprintln(w)
	}
	t := goalThreshold(sc)
	_, gar := rates(lfw, t)
	fmt.Fprintf(w, "  %-14s goal threshold (LFW FAR ≤ 0.1 %%, others ≤ 1 %%): LFW genuine accepted %.2f %%", "", 100*gar)
	for _, n := range names {
		far, g := rates(sc[n], t)
		fmt.Fprintf(w, "; %s FAR %.3f %% GAR %.2f %%", n, 100*far, 100*g)
	}
	fmt.Fprintln(w)
}

func run(args []string, stdout, stderr io.Writer) error {
	var specs setFlags
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&specs, "set", "NAME=EMBEDDINGS.tsv,PAIRS: an identity-labelled set (repeat; name lfw gets the 0.1 % FAR goal)")
	research := fs.Bool("research", false, "measure every normalisation variant with identities held out")
	only := fs.String("only", "", "with --research: measure only variants whose name contains this")
	write := fs.Bool("write", false, "fit the adopted normalisation on every image and the calibration on the pooled pairs, write --out and print the tables")
	out := fs.String("out", "weights/calibration.json", "with --write: the statistics file to write")
	drop := fs.Int("drop", adoptedDrop, "with --write: principal directions removed after centring (-1: no normalisation, the raw cosine)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(specs) == 0 {
		return fmt.Errorf("give at least one --set")
	}
	var sets []*labelled
	var names []string
	for _, sp := range specs {
		s, err := load(sp)
		if err != nil {
			return err
		}
		sets, names = append(sets, s), append(names, s.name)
	}
	if *research {
		for _, v := range variants() {
			if *only != "" && !strings.Contains(v.name, *only) {
				continue
			}
			fmt.Fprintf(stdout, "%s\n", v.name)
			h, l := heldOut(sets, v)
			writeProtocol(stdout, names, "identity halves", h)
			writeProtocol(stdout, names, "set left out", l)
		}
	}
	if *write {
		return fitAndWrite(sets, names, *drop, *out, specs, stdout)
	}
	return nil
}
