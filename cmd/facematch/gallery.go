package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/pgvector"
	"github.com/facematch/facematch/server"
)

func init() {
	commands["gallery"] = command{run: runGallery, summary: "enroll, search, remove and count face templates in a gallery (1:N)"}
}

const gallerySynopsis = `gallery enroll|search|remove|count --gallery FILE|postgres://... [flags] [arguments]

  gallery enroll --gallery G [--unique] [--threshold T] ID IMAGE|--template B64
  gallery search --gallery G [--k K] [--min P] IMAGE|--template B64
  gallery remove --gallery G ID...
  gallery count  --gallery G

G is a file (the embedded gallery, created if missing) or a PostgreSQL URL
(postgres://..., with the pgvector extension). Exit status: 0 success,
1 enroll --unique refused a face already enrolled under another id, 2 error.`

type galleryEnrollJSON struct {
	Enrolled  bool    `json:"enrolled"`
	ID        string  `json:"id"`
	Duplicate *dupOut `json:"duplicate,omitempty"`
}

type dupOut struct {
	ID         string  `json:"id"`
	Percentage float64 `json:"percentage"`
	Text       string  `json:"percentageText"`
}

type galleryMatchJSON struct {
	ID         string  `json:"id"`
	Percentage float64 `json:"percentage"`
	Text       string  `json:"percentageText"`
	Similarity float64 `json:"similarity"`
}

func runGallery(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, "usage: facematch %s\n", gallerySynopsis)
		if len(args) == 0 {
			return exitError
		}
		return exitMatch
	}
	sub := args[0]
	fs := newFlagSet("gallery "+sub, gallerySynopsis, stderr)
	where := fs.String("gallery", "", "gallery file, or postgres:// URL (required)")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	tmpl := fs.String("template", "", "use this template (base64, as `facematch template` prints) instead of an image")
	var unique *bool
	var threshold, minP *float64
	var k *int
	switch sub {
	case "enroll":
		unique = fs.Bool("unique", false, "refuse the face if it matches another enrolled id at --threshold")
		threshold = fs.Float64("threshold", gallery.DefaultUniqueThreshold, "match threshold of --unique, in [0.70, 0.9999]; one-to-many needs higher ones than compare (see README)")
	case "search":
		k = fs.Int("k", gallery.DefaultK, "number of results")
		minP = fs.Float64("min", 0, "drop results below this percentage (0-100)")
	case "remove", "count":
	default:
		return galleryFail(fmt.Errorf("%w: unknown gallery subcommand %q (enroll, search, remove, count)", errUsage, sub), jsonRequested(args), stdout, stderr)
	}
	pos, err := parseArgs(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitMatch
	}
	if err != nil {
		return galleryFail(fmt.Errorf("%w: %v", errUsage, err), jsonRequested(args), stdout, stderr)
	}
	if *where == "" {
		return galleryFail(fmt.Errorf("%w: --gallery is required", errUsage), *asJSON, stdout, stderr)
	}
	wantPos := map[string][2]int{"enroll": {2, 1}, "search": {1, 0}, "remove": {1, -1}, "count": {0, 0}}[sub]
	need := wantPos[0]
	if *tmpl != "" && (sub == "enroll" || sub == "search") {
		need--
	}
	if len(pos) < need || (wantPos[1] != -1 && len(pos) > need) {
		fs.Usage()
		return galleryFail(fmt.Errorf("%w: gallery %s: wrong number of arguments (%d)", errUsage, sub, len(pos)), *asJSON, stdout, stderr)
	}
	m, err := matcher(*allowPrivate)
	if err != nil {
		return galleryFail(err, *asJSON, stdout, stderr)
	}
	ctx := context.Background()
	g, err := openGallery(ctx, *where, m)
	if err != nil {
		return galleryFail(err, *asJSON, stdout, stderr)
	}
	defer g.Close()

	run := &galleryRun{ctx: ctx, g: g, m: m, template: *tmpl, asJSON: *asJSON, stdout: stdout, stderr: stderr}
	switch sub {
	case "enroll":
		return run.enroll(pos, *unique, *threshold)
	case "search":
		return run.search(pos, &gallery.SearchOptions{K: *k, MinPercentage: *minP})
	case "remove":
		return run.remove(pos)
	default: // count
		return run.count()
	}
}

// galleryRun is one gallery subcommand on an open gallery.
type galleryRun struct {
	ctx      context.Context
	g        gallery.Gallery
	m        *facematch.Matcher
	template string // --template, used instead of an image
	asJSON   bool
	stdout   io.Writer
	stderr   io.Writer
}

func (r *galleryRun) fail(err error) int { return galleryFail(err, r.asJSON, r.stdout, r.stderr) }

// probe returns the template of the image argument (or --template).
func (r *galleryRun) probe(arg string) (*facematch.Template, error) {
	if r.template != "" {
		t, err := facematch.ParseTemplate([]byte(strings.TrimSpace(r.template)))
		if err != nil {
			return nil, err
		}
		return t, facematch.CheckTemplate(t, r.m.ModelID())
	}
	src, err := source(arg)
	if err != nil {
		return nil, err
	}
	return r.m.Template(r.ctx, src)
}

// enroll enrolls pos[1] (or --template) as id pos[0]; with unique, it
// refuses a face that matches another id at threshold (exit 1).
func (r *galleryRun) enroll(pos []string, unique bool, threshold float64) int {
	id := pos[0]
	var arg string
	if len(pos) > 1 {
		arg = pos[1]
	}
	t, err := r.probe(arg)
	if err != nil {
		return r.fail(err)
	}
	if unique {
		err = r.g.EnrollUnique(r.ctx, id, t, threshold)
	} else {
		err = r.g.Enroll(r.ctx, id, t)
	}
	var dup *gallery.DuplicateError
	if errors.As(err, &dup) {
		if r.asJSON {
			writeJSON(r.stdout, galleryEnrollJSON{ID: id, Duplicate: &dupOut{dup.ID, dup.Percentage, facematch.FormatPercentage(dup.Percentage)}})
		} else {
			fmt.Fprintf(r.stdout, "refused: the face matches %q at %s\n", dup.ID, facematch.FormatPercentage(dup.Percentage))
		}
		return exitNoMatch
	}
	if err != nil {
		return r.fail(err)
	}
	if r.asJSON {
		writeJSON(r.stdout, galleryEnrollJSON{Enrolled: true, ID: id})
	} else {
		fmt.Fprintf(r.stdout, "enrolled %q\n", id)
	}
	return exitMatch
}

// search lists the enrolled ids closest to pos[0] (or --template).
func (r *galleryRun) search(pos []string, opts *gallery.SearchOptions) int {
	var arg string
	if len(pos) > 0 {
		arg = pos[0]
	}
	t, err := r.probe(arg)
	if err != nil {
		return r.fail(err)
	}
	ms, err := r.g.Search(r.ctx, t, opts)
	if err != nil {
		return r.fail(err)
	}
	out := []galleryMatchJSON{}
	for _, mt := range ms {
		out = append(out, galleryMatchJSON{mt.ID, mt.Percentage, facematch.FormatPercentage(mt.Percentage), mt.Similarity})
	}
	if r.asJSON {
		writeJSON(r.stdout, map[string]any{"matches": out})
	} else {
		for _, mt := range out {
			fmt.Fprintf(r.stdout, "%s\t%s\n", mt.Text, mt.ID)
		}
	}
	return exitMatch
}

func (r *galleryRun) remove(ids []string) int {
	n, err := r.g.Remove(r.ctx, ids...)
	if err != nil {
		return r.fail(err)
	}
	if r.asJSON {
		writeJSON(r.stdout, map[string]int{"removed": n})
	} else {
		fmt.Fprintf(r.stdout, "removed %d\n", n)
	}
	return exitMatch
}

func (r *galleryRun) count() int {
	n, err := r.g.Count(r.ctx)
	if err != nil {
		return r.fail(err)
	}
	if r.asJSON {
		writeJSON(r.stdout, map[string]int{"count": n})
	} else {
		fmt.Fprintln(r.stdout, n)
	}
	return exitMatch
}

// openGallery opens a PostgreSQL gallery for a postgres:// URL and the
// embedded gallery file otherwise, for m's model and calibration.
func openGallery(ctx context.Context, where string, m *facematch.Matcher) (gallery.Gallery, error) {
	cal := m.Calibration()
	lower := strings.ToLower(where)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return pgvector.Open(ctx, where, m.ModelID(), &pgvector.Options{Calibration: &cal})
	}
	if _, err := os.Stat(where); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return gallery.Open(where, m.ModelID(), &gallery.Options{Calibration: &cal})
}

// serveGallery enables the service's gallery endpoints on the gallery at
// where (nothing when where is empty). The gallery stays open for the life
// of the process; every enrolment is committed when its request answers.
func serveGallery(srv *server.Server, where string, m *facematch.Matcher) error {
	if where == "" {
		return nil
	}
	g, err := openGallery(context.Background(), where, m)
	if err != nil {
		return fmt.Errorf("--gallery: %w", err)
	}
	srv.SetGallery(g, m)
	return nil
}

// galleryErrorCode extends errorCode with the gallery's and templates'
// errors.
func galleryErrorCode(err error) string {
	codes := []struct {
		err  error
		code string
	}{
		{gallery.ErrInvalidID, "invalid_id"},
		{gallery.ErrExists, "id_exists"},
		{gallery.ErrInvalidSearch, "invalid_search"},
		{gallery.ErrModel, "gallery_of_another_model"},
		{gallery.ErrStore, "gallery_store"},
		{facematch.ErrTemplateModel, "template_of_another_model"},
		{facematch.ErrTemplateFormat, "invalid_template"},
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return errorCode(err)
}

func galleryFail(err error, asJSON bool, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "facematch: %v\n", err)
	if asJSON {
		writeJSON(stdout, map[string]jsonError{"error": {Code: galleryErrorCode(err), Message: err.Error()}})
	}
	return exitError
}
