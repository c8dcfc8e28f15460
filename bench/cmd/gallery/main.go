// Command gallery measures one-to-many search: open-set identification
// accuracy on LFW through the shipped path (Matcher.Template, the embedded
// gallery), and search speed and memory on synthetic random templates for
// the embedded gallery and, given a database, the PostgreSQL + pgvector one.
//
// Usage:
//
//	go run ./bench/cmd/gallery identify [--data DIR] [--cache FILE] [--max-people N] [--json]
//	go run ./bench/cmd/gallery speed [--sizes 10000,100000,1000000] [--queries N]
//	        [--postgres DSN] [--pg-sizes 10000,100000] [--ef 40,100,200,400] [--json]
//	go run ./bench/cmd/gallery recall --cache FILE | --embeddings FILE | --random
//	        [--postgres DSN] [--sizes 10000,100000] [--index 16:64,32:128] [--ef 40,100,400] [--json]
//
// identify (NIST FRVT 1:N terms): the gallery holds one image of each person
// with two or more images (the first, in file order, where a face is
// found); the mated probes are their other images; the non-mated probes are
// the images of the people with a single image. It reports rank-1 accuracy
// over the mated probes, and FNIR — the share of mated probes whose mate is
// not the top candidate at or above the threshold — at the thresholds where
// FPIR — the share of non-mated probes whose top candidate reaches the
// threshold — is 1e-2 and 1e-3, and both at the product's thresholds 0.70 and
// 0.95. Probes where no face is found count as misses (mated) and as
// correctly rejected (non-mated); images are embedded once, and --cache keeps
// the templates for reruns.
//
// speed runs on one core (GOMAXPROCS 1): search latency (K = 10) of the
// embedded gallery at each size, and the Go heap it holds per million
// templates; with --postgres (or FACEMATCH_TEST_POSTGRES), the HNSW search
// latency at each ef_search and its recall@10 against the exact search, plus
// the table and index size per million.
//
// recall measures the pgvector HNSW index's recall@10 against exact search
// on face-like templates (LFW templates topped up with Gaussian synthetic
// identities; see recall.go) for several index builds and ef_search values.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/bench/internal/dataset"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/gallerytest"
	"github.com/facematch/facematch/gallery/pgvector"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gallery identify|speed|recall [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "identify":
		err = runIdentify(os.Args[2:], os.Stdout)
	case "speed":
		err = runSpeed(os.Args[2:], os.Stdout)
	case "recall":
		err = runRecall(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown mode %q (identify, speed or recall)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gallery:", err)
		os.Exit(2)
	}
}

// ---- identify ----

type identifyReport struct {
	People          int     `json:"gallery_people"`
	MatedProbes     int     `json:"mated_probes"`
	NonMatedProbes  int     `json:"non_mated_probes"`
	NoFace          int     `json:"no_face_images"`
	GalleryNoFace   int     `json:"people_without_a_usable_image"`
	Rank1           float64 `json:"rank1"`
	Rank5           float64 `json:"rank5"`
	Operating       []opRow `json:"operating_points"`
	Seconds         float64 `json:"seconds"`
	SearchMillisAvg float64 `json:"search_ms_avg"`
}

type opRow struct {
	Label      string  `json:"label"`
	Cosine     float64 `json:"cosine"`
	Percentage float64 `json:"percentage"`
	FPIR       float64 `json:"fpir"`
	FNIR       float64 `json:"fnir"`
}

func runIdentify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("identify", flag.ContinueOnError)
	data := fs.String("data", "", "LFW folder (one sub-folder of images per person); default ../shared/datasets/lfw")
	cache := fs.String("cache", "", "read/write the templates here (TSV: path, base64 template or -)")
	maxPeople := fs.Int("max-people", 0, "use only the first N people in name order (0 = all), for quick runs")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		if *data = dataset.Dir("lfw"); *data == "" {
			return errors.New("--data not given and ../shared not found")
		}
	}
	people, err := listPeople(*data, *maxPeople)
	if err != nil {
		return err
	}
	var paths []string
	for _, p := range people {
		paths = append(paths, p.images...)
	}
	start := time.Now()
	m, err := facematch.New(nil)
	if err != nil {
		return err
	}
	tmpl, err := templates(m, *data, paths, *cache)
	if err != nil {
		return err
	}
	rep := identifyReport{}
	for _, p := range paths {
		if tmpl[p] == nil {
			rep.NoFace++
		}
	}
	g := gallery.NewMemory(m.ModelID(), nil)
	probes, err := enrollFirstImages(g, people, tmpl, &rep)
	if err != nil {
		return err
	}
	searchStart := time.Now()
	outs, err := searchProbes(g, probes, tmpl)
	if err != nil {
		return err
	}
	searchTime := time.Since(searchStart)
	if err := rep.summarise(outs, m.Calibration()); err != nil {
		return err
	}
	rep.Seconds = time.Since(start).Seconds()
	rep.SearchMillisAvg = searchTime.Seconds() * 1000 / float64(len(probes))
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// probe is one search of the identification run: an image of person,
// enrolled (mated) or not.
type probe struct {
	path, person string
	mated        bool
}

// outcome is what a probe's search returned.
type outcome struct {
	top    float64 // best similarity, -2 without a candidate
	mateAt int     // rank of the mate (1-based), 0 = not in the top 5
	mated  bool
}

// enrollFirstImages enrolls the first image with a face of every person
// with at least two images; their other images are mated probes, the
// single images of the other people non-mated ones.
func enrollFirstImages(g gallery.Gallery, people []person, tmpl map[string]*facematch.Template, rep *identifyReport) ([]probe, error) {
	var probes []probe
	for _, p := range people {
		if len(p.images) == 1 {
			probes = append(probes, probe{p.images[0], p.name, false})
			continue
		}
		enrolled := false
		for _, img := range p.images {
			if !enrolled && tmpl[img] != nil {
				if err := g.Enroll(context.Background(), p.name, tmpl[img]); err != nil {
					return nil, err
				}
				enrolled = true
				continue
			}
			probes = append(probes, probe{img, p.name, true})
		}
		if enrolled {
			rep.People++
		} else {
			rep.GalleryNoFace++
		}
	}
	return probes, nil
}

// searchProbes returns the top candidates of each probe; no face = no
// candidate.
func searchProbes(g gallery.Gallery, probes []probe, tmpl map[string]*facematch.Template) ([]outcome, error) {
	outs := make([]outcome, len(probes))
	for i, pr := range probes {
		outs[i] = outcome{top: -2, mated: pr.mated}
		t := tmpl[pr.path]
		if t == nil {
			continue
		}
		ms, err := g.Search(context.Background(), t, &gallery.SearchOptions{K: 5})
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			outs[i].top = ms[0].Similarity
		}
		for r, mt := range ms {
			if mt.ID == pr.person {
				outs[i].mateAt = r + 1
				break
			}
		}
	}
	return outs, nil
}

// summarise fills the rank rates and the operating points of rep from the
// probes' outcomes.
func (rep *identifyReport) summarise(outs []outcome, cal compare.Calibration) error {
	var nonMatedTop []float64
	for _, o := range outs {
		if o.mated {
			rep.MatedProbes++
			if o.mateAt == 1 {
				rep.Rank1++
			}
			if o.mateAt >= 1 {
				rep.Rank5++
			}
		} else {
			rep.NonMatedProbes++
			nonMatedTop = append(nonMatedTop, o.top)
		}
	}
	if rep.MatedProbes == 0 || rep.NonMatedProbes == 0 {
		return errors.New("need both mated and non-mated probes")
	}
	rep.Rank1 /= float64(rep.MatedProbes)
	rep.Rank5 /= float64(rep.MatedProbes)
	sort.Sort(sort.Reverse(sort.Float64Slice(nonMatedTop)))
	rates := func(cos float64) (fpir, fnir float64) {
		var fp, fn int
		for _, o := range outs {
			if o.mated && !(o.mateAt == 1 && o.top >= cos) {
				fn++
			}
			if !o.mated && o.top >= cos {
				fp++
			}
		}
		return float64(fp) / float64(rep.NonMatedProbes), float64(fn) / float64(rep.MatedProbes)
	}
	for _, target := range []float64{1e-2, 1e-3} {
		// The lowest threshold with FPIR <= target: just above the
		// (allowed+1)-th highest non-mated top score.
		allowed := int(target * float64(len(nonMatedTop)))
		cos := 1.0
		if allowed < len(nonMatedTop) {
			cos = nextUp(nonMatedTop[allowed])
		}
		fpir, fnir := rates(cos)
		rep.Operating = append(rep.Operating, opRow{fmt.Sprintf("FPIR %g", target), cos, cal.Percentage(cos), fpir, fnir})
	}
	for _, th := range []float64{0.70, 0.95} {
		cos := cal.Cosine(th * 100)
		fpir, fnir := rates(cos)
		rep.Operating = append(rep.Operating, opRow{fmt.Sprintf("threshold %.2f", th), cos, th * 100, fpir, fnir})
	}
	return nil
}

func (rep *identifyReport) print(stdout io.Writer) {
	fmt.Fprintf(stdout, "gallery          %d people (one image each; %d people with >= 2 images had no usable face)\n", rep.People, rep.GalleryNoFace)
	fmt.Fprintf(stdout, "probes           %d mated, %d non-mated (%d images without a face: misses / rejections)\n", rep.MatedProbes, rep.NonMatedProbes, rep.NoFace)
	fmt.Fprintf(stdout, "rank-1           %.2f%%   rank-5 %.2f%%\n", 100*rep.Rank1, 100*rep.Rank5)
	fmt.Fprintln(stdout, "operating point      cosine   percentage   FPIR      FNIR")
	for _, o := range rep.Operating {
		fmt.Fprintf(stdout, "%-18s   %.4f   %6.2f%%      %.4f    %.4f\n", o.Label, o.Cosine, o.Percentage, o.FPIR, o.FNIR)
	}
	fmt.Fprintf(stdout, "time             %.1f s (search %.3f ms per probe)\n", rep.Seconds, rep.SearchMillisAvg)
}

func nextUp(x float64) float64 { return x + 1e-12 }

type person struct {
	name   string
	images []string // relative paths, sorted
}

func listPeople(dir string, max int) ([]person, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []person
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		p := person{name: e.Name()}
		for _, f := range files {
			if n := strings.ToLower(f.Name()); !f.IsDir() && (strings.HasSuffix(n, ".jpg") || strings.HasSuffix(n, ".png")) {
				p.images = append(p.images, e.Name()+"/"+f.Name())
			}
		}
		if len(p.images) > 0 {
			slices.Sort(p.images)
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no person folders in %s", dir)
	}
	return out, nil
}

// templates returns the template of each path (nil: no face), from the
// cache where present, computing the rest over GOMAXPROCS workers.
func templates(m *facematch.Matcher, dir string, paths []string, cache string) (map[string]*facematch.Template, error) {
	out := map[string]*facematch.Template{}
	have := map[string]bool{}
	if cache != "" {
		if f, err := os.Open(cache); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				path, b64, ok := strings.Cut(sc.Text(), "\t")
				if !ok {
					continue
				}
				have[path] = true
				if b64 != "-" {
					t, err := facematch.ParseTemplate([]byte(b64))
					if err != nil || t.Model != m.ModelID() {
						delete(have, path) // another model's cache: recompute
						continue
					}
					out[path] = t
				}
			}
			f.Close()
		}
	}
	var todo []string
	for _, p := range paths {
		if !have[p] {
			todo = append(todo, p)
		}
	}
	var w *bufio.Writer
	if cache != "" && len(todo) > 0 {
		f, err := os.OpenFile(cache, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		w = bufio.NewWriter(f)
		defer w.Flush()
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	next := make(chan string)
	done := 0
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				t, err := m.Template(context.Background(), facematch.File(filepath.Join(dir, p)))
				mu.Lock()
				switch {
				case errors.Is(err, facematch.ErrNoFace):
					if w != nil {
						fmt.Fprintf(w, "%s\t-\n", p)
					}
				case err != nil:
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", p, err)
					}
				default:
					out[p] = t
					if w != nil {
						fmt.Fprintf(w, "%s\t%s\n", p, t)
					}
				}
				done++
				if done%500 == 0 {
					fmt.Fprintf(os.Stderr, "\r%d/%d images", done, len(todo))
					if w != nil {
						w.Flush() // an interrupted run keeps its work
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range todo {
		next <- p
	}
	close(next)
	wg.Wait()
	if len(todo) >= 500 {
		fmt.Fprintln(os.Stderr)
	}
	return out, firstErr
}

// ---- speed ----

type speedRow struct {
	Backend      string  `json:"backend"`
	Size         int     `json:"size"`
	EfSearch     int     `json:"ef_search,omitempty"`
	MedianMillis float64 `json:"median_ms"`     // wall clock
	P95Millis    float64 `json:"p95_ms"`        // wall clock
	CPUMillis    float64 `json:"median_cpu_ms"` // CPU time of the searching thread (embedded only)
	RecallAt10   float64 `json:"recall_at_10"`
	BytesPerMio  float64 `json:"bytes_per_million,omitempty"`
	LoadSeconds  float64 `json:"load_s,omitempty"`
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func runSpeed(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("speed", flag.ContinueOnError)
	sizesFlag := fs.String("sizes", "10000,100000,1000000", "embedded gallery sizes")
	queries := fs.Int("queries", 100, "searches per measurement")
	dsn := fs.String("postgres", os.Getenv("FACEMATCH_TEST_POSTGRES"), "PostgreSQL DSN (with pgvector) to measure too; empty skips it")
	pgSizesFlag := fs.String("pg-sizes", "10000,100000", "pgvector gallery sizes")
	efFlag := fs.String("ef", "40,100,200,400", "hnsw.ef_search values")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sizes, err := parseInts(*sizesFlag)
	if err != nil {
		return err
	}
	pgSizes, err := parseInts(*pgSizesFlag)
	if err != nil {
		return err
	}
	efs, err := parseInts(*efFlag)
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(1)
	report := func(r speedRow) {
		if *asJSON {
			json.NewEncoder(stdout).Encode(r)
			return
		}
		fmt.Fprintf(stdout, "%-9s %8d  ef %-4d  median %8.3f ms (cpu %8.3f)  p95 %8.3f ms  recall@10 %.4f  %6.0f MB/million  load %.1f s\n",
			r.Backend, r.Size, r.EfSearch, r.MedianMillis, r.CPUMillis, r.P95Millis, r.RecallAt10, r.BytesPerMio/1e6, r.LoadSeconds)
	}
	ctx := context.Background()
	model := gallerytest.Model()
	maxSize := slices.Max(append(slices.Clone(sizes), pgSizes...))
	r := rand.New(rand.NewPCG(42, 1))
	all := make([]gallery.Entry, maxSize)
	for i := range all {
		all[i] = gallery.Entry{ID: fmt.Sprintf("id%07d", i), Template: gallerytest.RandomTemplate(r, model)}
	}
	qs := make([]*facematch.Template, *queries)
	for i := range qs {
		qs[i] = gallerytest.RandomTemplate(r, model)
	}
	exact := map[int][][]string{} // size → query → top-10 ids
	for _, n := range sizes {
		row, tops, err := measureEmbedded(ctx, model, all[:n], qs)
		if err != nil {
			return err
		}
		exact[n] = tops
		report(row)
	}
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "no --postgres DSN: pgvector not measured")
		return nil
	}
	for _, n := range pgSizes {
		all := all[:n]
		tops := exact[n]
		if tops == nil { // exact reference for this size
			if tops, err = exactTops(ctx, model, all, qs); err != nil {
				return err
			}
		}
		schema := fmt.Sprintf("facematch_bench_%d", time.Now().UnixNano())
		row, err := measurePG(ctx, *dsn, schema, all, qs, tops, efs, report)
		if err != nil {
			return err
		}
		_ = row
	}
	return nil
}

// measureEmbedded loads entries into an in-memory embedded gallery and
// times the queries' top-10 searches on one locked thread. It returns the
// row and each query's top-10 ids (the exact reference for pgvector).
func measureEmbedded(ctx context.Context, model facematch.ModelID, entries []gallery.Entry, qs []*facematch.Template) (speedRow, [][]string, error) {
	n := len(entries)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	g := gallery.NewMemory(model, nil)
	defer func() {
		g.Close()
		runtime.GC()
		debug.FreeOSMemory()
	}()
	if err := g.EnrollBatch(ctx, entries); err != nil {
		return speedRow{}, nil, err
	}
	load := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	row := speedRow{Backend: "embedded", Size: n, RecallAt10: 1, LoadSeconds: load.Seconds(),
		BytesPerMio: float64(after.HeapAlloc-before.HeapAlloc) / float64(n) * 1e6}
	var lat, cpu []time.Duration
	var tops [][]string
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, q := range qs {
		t0, c0 := time.Now(), threadCPU()
		ms, err := g.Search(ctx, q, &gallery.SearchOptions{K: 10})
		lat = append(lat, time.Since(t0))
		cpu = append(cpu, threadCPU()-c0)
		if err != nil {
			return speedRow{}, nil, err
		}
		tops = append(tops, ids(ms))
	}
	row.MedianMillis, row.P95Millis = quantiles(lat)
	row.CPUMillis, _ = quantiles(cpu)
	return row, tops, nil
}

// exactTops returns each query's exact top-10 ids over entries.
func exactTops(ctx context.Context, model facematch.ModelID, entries []gallery.Entry, qs []*facematch.Template) ([][]string, error) {
	g := gallery.NewMemory(model, nil)
	defer g.Close()
	if err := g.EnrollBatch(ctx, entries); err != nil {
		return nil, err
	}
	var tops [][]string
	for _, q := range qs {
		ms, err := g.Search(ctx, q, &gallery.SearchOptions{K: 10})
		if err != nil {
			return nil, err
		}
		tops = append(tops, ids(ms))
	}
	return tops, nil
}

func measurePG(ctx context.Context, dsn, schema string, all []gallery.Entry, qs []*facematch.Template, exact [][]string, efs []int, report func(speedRow)) (speedRow, error) {
	defer func() {
		if conn, err := pgx.Connect(ctx, dsn); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			conn.Close(ctx)
		}
	}()
	g, err := pgvector.Open(ctx, dsn, gallerytest.Model(), &pgvector.Options{Schema: schema})
	if err != nil {
		return speedRow{}, err
	}
	start := time.Now()
	for i := 0; i < len(all); i += 10000 {
		if err := g.EnrollBatch(ctx, all[i:min(i+10000, len(all))]); err != nil {
			g.Close()
			return speedRow{}, err
		}
	}
	load := time.Since(start)
	g.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return speedRow{}, err
	}
	var bytes int64
	err = conn.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", pgx.Identifier{schema, "facematch_gallery_" + gallerytest.Model().String()}.Sanitize()).Scan(&bytes)
	conn.Close(ctx)
	if err != nil {
		return speedRow{}, err
	}
	var last speedRow
	for _, ef := range efs {
		recall, lat, err := searchPG(ctx, dsn, gallerytest.Model(), schema, ef, qs, exact)
		if err != nil {
			return speedRow{}, err
		}
		last = speedRow{Backend: "pgvector", Size: len(all), EfSearch: ef, RecallAt10: recall,
			BytesPerMio: float64(bytes) / float64(len(all)) * 1e6, LoadSeconds: load.Seconds()}
		last.MedianMillis, last.P95Millis = quantiles(lat)
		report(last)
	}
	return last, nil
}

// searchPG opens the pgvector gallery with ef_search ef and runs every
// query (after warming the cache with a few): recall@10 against exact (the
// exact top-10 ids of each query) and each search's latency.
func searchPG(ctx context.Context, dsn string, model facematch.ModelID, schema string, ef int, qs []*facematch.Template, exact [][]string) (recall float64, lat []time.Duration, err error) {
	g, err := pgvector.Open(ctx, dsn, model, &pgvector.Options{Schema: schema, EfSearch: ef})
	if err != nil {
		return 0, nil, err
	}
	defer g.Close()
	for _, q := range qs[:min(5, len(qs))] { // warm the cache
		g.Search(ctx, q, &gallery.SearchOptions{K: 10})
	}
	hit, total := 0, 0
	for i, q := range qs {
		t0 := time.Now()
		ms, err := g.Search(ctx, q, &gallery.SearchOptions{K: 10})
		lat = append(lat, time.Since(t0))
		if err != nil {
			return 0, nil, err
		}
		got := ids(ms)
		for _, id := range exact[i] {
			total++
			if slices.Contains(got, id) {
				hit++
			}
		}
	}
	return float64(hit) / float64(total), lat, nil
}

func ids(ms []gallery.Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func quantiles(d []time.Duration) (median, p95 float64) {
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x) / 1e6 }
	return ms(s[len(s)/2]), ms(s[min(len(s)-1, len(s)*95/100)])
}
