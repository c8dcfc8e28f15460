package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gonum.org/v1/gonum/mat"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/gallerytest"
	"github.com/facematch/facematch/gallery/pgvector"
	"github.com/facematch/facematch/internal/sharedtest"
)

// ---- recall ----
//
// recall measures the pgvector HNSW index's recall@10 against exact search
// on templates that look like faces, for several index builds (m,
// ef_construction) and ef_search values. Templates: every LFW template (the
// identify cache, or a TSV of Matcher.Embed embeddings mapped as
// Matcher.Template maps them), minus the queries, topped up to each size with
// synthetic identities drawn from a Gaussian with the mean and covariance of
// those real templates, normalised. Queries: held-out LFW images of people
// who have another image in the gallery (mated probes). --random instead
// uses random unit vectors for gallery and queries (the speed mode's worst
// case), for comparison.

type recallRow struct {
	Data         string  `json:"data"` // "lfw+gaussian" or "random"
	Size         int     `json:"size"`
	M            int     `json:"m"`
	EfConstruct  int     `json:"ef_construction"`
	EfSearch     int     `json:"ef_search"`
	RecallAt10   float64 `json:"recall_at_10"`
	MedianMillis float64 `json:"median_ms"`
	P95Millis    float64 `json:"p95_ms"`
	BuildSeconds float64 `json:"build_s"`
	IndexBytes   int64   `json:"index_bytes"`
}

type indexParams struct{ m, efc int }

func runRecall(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("recall", flag.ContinueOnError)
	dsn := fs.String("postgres", os.Getenv("FACEMATCH_TEST_POSTGRES"), "PostgreSQL DSN (with pgvector)")
	cache := fs.String("cache", "", "templates from the identify mode's cache (TSV: path, base64 template or -)")
	embFile := fs.String("embeddings", "", "or: TSV of Matcher.Embed embeddings (path, status, 192 floats)")
	verify := fs.Int("verify", 2, "re-embed this many images of --data and check the file's vectors are Matcher.Template's, bit for bit")
	data := fs.String("data", "", "LFW folder for --verify; default ../shared/datasets/lfw")
	sizesFlag := fs.String("sizes", "10000,100000", "gallery sizes")
	idxFlag := fs.String("index", "16:64", "HNSW builds as m:ef_construction, comma-separated")
	efFlag := fs.String("ef", "40,100,200,400", "hnsw.ef_search values")
	queries := fs.Int("queries", 200, "mated probes held out of the gallery")
	random := fs.Bool("random", false, "random unit vectors instead of LFW + Gaussian (the worst case)")
	workers := fs.Int("build-workers", 0, "max_parallel_maintenance_workers for the index build (0 = the leader alone, one core)")
	asJSON := fs.Bool("json", false, "print JSON lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dsn == "" {
		return errors.New("no --postgres DSN (or FACEMATCH_TEST_POSTGRES)")
	}
	sizes, err := parseInts(*sizesFlag)
	if err != nil {
		return err
	}
	efs, err := parseInts(*efFlag)
	if err != nil {
		return err
	}
	var builds []indexParams
	for _, s := range strings.Split(*idxFlag, ",") {
		a, b, ok := strings.Cut(s, ":")
		m, err1 := strconv.Atoi(a)
		efc, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || m < 2 || efc < 2*m {
			return fmt.Errorf("--index %q: want m:ef_construction with ef_construction >= 2m", s)
		}
		builds = append(builds, indexParams{m, efc})
	}
	model := gallerytest.Model()
	r := rand.New(rand.NewPCG(42, 2))
	var real []*facematch.Template // gallery part from LFW
	var qs []*facematch.Template
	label := "random"
	if !*random {
		label = "lfw+gaussian"
		byPath, err := loadRealTemplates(*cache, *embFile)
		if err != nil {
			return err
		}
		m, err := facematch.New(nil)
		if err != nil {
			return err
		}
		model = m.ModelID()
		if err := verifyTemplates(m, *data, byPath, *verify); err != nil {
			return err
		}
		real, qs = holdOutProbes(r, byPath, *queries, model)
		fmt.Fprintf(os.Stderr, "%d LFW templates in the gallery, %d held-out mated probes\n", len(real), len(qs))
	} else {
		for range *queries {
			qs = append(qs, gallerytest.RandomTemplate(r, model))
		}
	}
	maxSize := slices.Max(sizes)
	all := make([]gallery.Entry, 0, maxSize)
	for i, t := range real {
		if len(all) == maxSize {
			break
		}
		all = append(all, gallery.Entry{ID: fmt.Sprintf("lfw%05d", i), Template: t})
	}
	if n := maxSize - len(all); n > 0 {
		var gen func() *facematch.Template
		if *random {
			gen = func() *facematch.Template { return gallerytest.RandomTemplate(r, model) }
		} else {
			g, err := newGaussian(real)
			if err != nil {
				return err
			}
			gen = func() *facematch.Template { return &facematch.Template{Model: model, Vector: g.sample(r)} }
		}
		for i := range n {
			all = append(all, gallery.Entry{ID: fmt.Sprintf("syn%07d", i), Template: gen()})
		}
		// Interleave real and synthetic so every size prefix mixes both.
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	}
	report := func(row recallRow) {
		if *asJSON {
			json.NewEncoder(stdout).Encode(row)
			return
		}
		fmt.Fprintf(stdout, "%-12s %7d  m %-3d efc %-4d ef %-5d recall@10 %.4f  median %7.2f ms  p95 %7.2f ms  build %7.1f s  index %5.0f MB\n",
			row.Data, row.Size, row.M, row.EfConstruct, row.EfSearch, row.RecallAt10, row.MedianMillis, row.P95Millis, row.BuildSeconds, float64(row.IndexBytes)/1e6)
	}
	ctx := context.Background()
	for _, n := range sizes {
		entries := all[:n]
		exact, tie := exactTop10(ctx, model, entries, qs)
		fmt.Fprintf(os.Stderr, "%s %d: exact 10th/11th neighbour cosine gap, median %.4f (10th %.4f)\n", label, n, tie[0], tie[1])
		if err := measureRecall(ctx, *dsn, model, entries, qs, exact, builds, efs, *workers, func(row recallRow) {
			row.Data = label
			report(row)
		}); err != nil {
			return err
		}
	}
	return nil
}

// loadRealTemplates reads templates keyed by image path (relative to the
// LFW folder) from the identify cache or an embeddings TSV.
func loadRealTemplates(cache, embFile string) (map[string]*facematch.Template, error) {
	out := map[string]*facematch.Template{}
	var name string
	switch {
	case cache != "":
		name = cache
	case embFile != "":
		name = embFile
	default:
		return nil, errors.New("give --cache or --embeddings (or --random)")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if cache != "" {
			if len(fields) != 2 || fields[1] == "-" {
				continue
			}
			t, err := facematch.ParseTemplate([]byte(fields[1]))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fields[0], err)
			}
			out[fields[0]] = t
			continue
		}
		if len(fields) != 3 || fields[1] != "ok" {
			continue
		}
		vals := strings.Fields(fields[2])
		if len(vals) != embed.Dim {
			return nil, fmt.Errorf("%s: %d values", fields[0], len(vals))
		}
		e := make([]float32, embed.Dim)
		for i, s := range vals {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fields[0], err)
			}
			e[i] = float32(v)
		}
		// As Matcher.Template maps Matcher.Embed's vector.
		out[fields[0]] = &facematch.Template{Vector: compare.Normalize(nil, e)}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no templates in %s", name)
	}
	return out, nil
}

// verifyTemplates re-embeds n images (in path order) and requires the
// loaded vectors to be Matcher.Template's exactly: the file must come from
// this model.
func verifyTemplates(m *facematch.Matcher, dir string, byPath map[string]*facematch.Template, n int) error {
	if n <= 0 {
		return nil
	}
	if dir == "" {
		root := sharedtest.Find()
		if root == "" {
			return errors.New("--verify needs --data or ../shared")
		}
		dir = filepath.Join(root, "datasets", "lfw")
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths[:min(n, len(paths))] {
		t, err := m.Template(context.Background(), facematch.File(filepath.Join(dir, p)))
		if err != nil {
			return fmt.Errorf("verify %s: %w", p, err)
		}
		if !slices.Equal(t.Vector, byPath[p].Vector) {
			return fmt.Errorf("verify %s: the file's template differs from Matcher.Template's (another model or version)", p)
		}
	}
	return nil
}

// holdOutProbes picks q images of people with two or more templates as
// queries (at most one per person, so each keeps a mate in the gallery) and
// returns the other templates as the gallery's real part, in path order.
func holdOutProbes(r *rand.Rand, byPath map[string]*facematch.Template, q int, model facematch.ModelID) (gal, probes []*facematch.Template) {
	paths := make([]string, 0, len(byPath))
	for p, t := range byPath {
		t.Model = model
		paths = append(paths, p)
	}
	slices.Sort(paths)
	perPerson := map[string][]string{}
	var people []string
	for _, p := range paths {
		who := filepath.Dir(p)
		if perPerson[who] == nil {
			people = append(people, who)
		}
		perPerson[who] = append(perPerson[who], p)
	}
	var eligible []string
	for _, who := range people {
		if len(perPerson[who]) >= 2 {
			eligible = append(eligible, who)
		}
	}
	r.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	held := map[string]bool{}
	for _, who := range eligible[:min(q, len(eligible))] {
		imgs := perPerson[who]
		p := imgs[len(imgs)-1] // the last: the gallery keeps the first
		held[p] = true
		probes = append(probes, byPath[p])
	}
	for _, p := range paths {
		if !held[p] {
			gal = append(gal, byPath[p])
		}
	}
	return gal, probes
}

// gaussian samples unit vectors from N(mean, cov) of a set of templates,
// normalised: synthetic identities with the real templates' anisotropy
// (templates fill a few dominant directions, not the whole sphere).
type gaussian struct {
	mean []float64
	l    *mat.TriDense
}

func newGaussian(ts []*facematch.Template) (*gaussian, error) {
	d := embed.Dim
	mean := make([]float64, d)
	for _, t := range ts {
		for i, v := range t.Vector {
			mean[i] += float64(v)
		}
	}
	for i := range mean {
		mean[i] /= float64(len(ts))
	}
	cov := mat.NewSymDense(d, nil)
	x := make([]float64, d)
	for _, t := range ts {
		for i, v := range t.Vector {
			x[i] = float64(v) - mean[i]
		}
		cov.SymRankOne(cov, 1, mat.NewVecDense(d, x))
	}
	cov.ScaleSym(1/float64(len(ts)-1), cov)
	for i := range d {
		cov.SetSym(i, i, cov.At(i, i)+1e-9) // the normaliser's removed directions have no variance
	}
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		return nil, errors.New("template covariance is not positive definite")
	}
	var l mat.TriDense
	ch.LTo(&l)
	return &gaussian{mean: mean, l: &l}, nil
}

func (g *gaussian) sample(r *rand.Rand) []float32 {
	d := len(g.mean)
	z := make([]float64, d)
	for i := range z {
		z[i] = r.NormFloat64()
	}
	var y mat.VecDense
	y.MulVec(g.l, mat.NewVecDense(d, z))
	out := make([]float32, d)
	var ss float64
	for i := range out {
		v := g.mean[i] + y.AtVec(i)
		out[i] = float32(v)
		ss += v * v
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range out {
		out[i] *= inv
	}
	return out
}

// exactTop10 returns each query's exact top 10 (the embedded gallery) and
// the medians of the cosine gap between the 10th and 11th neighbours and of
// the 10th neighbour's cosine: how close the race for the last place is.
func exactTop10(ctx context.Context, model facematch.ModelID, entries []gallery.Entry, qs []*facematch.Template) ([][]string, [2]float64) {
	g := gallery.NewMemory(model, nil)
	defer g.Close()
	if err := g.EnrollBatch(ctx, entries); err != nil {
		panic(err)
	}
	var tops [][]string
	var gaps, tenth []float64
	for _, q := range qs {
		ms, err := g.Search(ctx, q, &gallery.SearchOptions{K: 11})
		if err != nil {
			panic(err)
		}
		tops = append(tops, ids(ms[:min(10, len(ms))]))
		if len(ms) == 11 {
			gaps = append(gaps, ms[9].Similarity-ms[10].Similarity)
			tenth = append(tenth, ms[9].Similarity)
		}
	}
	slices.Sort(gaps)
	slices.Sort(tenth)
	if len(gaps) == 0 {
		return tops, [2]float64{}
	}
	return tops, [2]float64{gaps[len(gaps)/2], tenth[len(tenth)/2]}
}

// measureRecall loads entries into a fresh schema (COPY, no index), then
// for each build creates the HNSW index in one statement (as after a bulk
// load; far faster than growing it row by row) and searches through the
// pgvector gallery at each ef_search.
func measureRecall(ctx context.Context, dsn string, model facematch.ModelID, entries []gallery.Entry, qs []*facematch.Template, exact [][]string, builds []indexParams, efs []int, workers int, report func(recallRow)) error {
	schema := fmt.Sprintf("facematch_recall_%d", time.Now().UnixNano())
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	defer conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	g, err := pgvector.Open(ctx, dsn, model, &pgvector.Options{Schema: schema})
	if err != nil {
		return err
	}
	name := "facematch_gallery_" + model.String()
	table := pgx.Identifier{schema, name}.Sanitize()
	index := pgx.Identifier{schema, name + "_hnsw"}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP INDEX "+index); err != nil {
		g.Close()
		return err
	}
	for i := 0; i < len(entries); i += 10000 {
		if err := g.EnrollBatch(ctx, entries[i:min(i+10000, len(entries))]); err != nil {
			g.Close()
			return err
		}
	}
	g.Close()
	for _, s := range []string{"SET maintenance_work_mem = '2GB'", fmt.Sprintf("SET max_parallel_maintenance_workers = %d", workers), "VACUUM ANALYZE " + table} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	for _, b := range builds {
		conn.Exec(ctx, "DROP INDEX IF EXISTS "+index)
		start := time.Now()
		_, err := conn.Exec(ctx, fmt.Sprintf("CREATE INDEX %s ON %s USING hnsw (embedding vector_cosine_ops) WITH (m = %d, ef_construction = %d)",
			pgx.Identifier{name + "_hnsw"}.Sanitize(), table, b.m, b.efc))
		if err != nil {
			return err
		}
		build := time.Since(start)
		var size int64
		if err := conn.QueryRow(ctx, "SELECT pg_relation_size($1::regclass)", index).Scan(&size); err != nil {
			return err
		}
		for _, ef := range efs {
			recall, lat, err := searchPG(ctx, dsn, model, schema, ef, qs, exact)
			if err != nil {
				return err
			}
			row := recallRow{Size: len(entries), M: b.m, EfConstruct: b.efc, EfSearch: ef,
				RecallAt10: recall, BuildSeconds: build.Seconds(), IndexBytes: size}
			row.MedianMillis, row.P95Millis = quantiles(lat)
			report(row)
		}
	}
	return nil
}
