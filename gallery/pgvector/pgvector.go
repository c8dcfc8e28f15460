// Package pgvector is a gallery.Gallery in PostgreSQL with the pgvector
// extension, for galleries that outgrow one machine or must be shared by
// several service instances.
//
// Each model gets its own table, facematch_gallery_<ModelID>, holding id
// (text primary key), embedding (vector(192)) and enrolled_at, with an HNSW
// index on cosine distance (vector_cosine_ops). Open applies the schema
// migrations it finds missing, recorded in facematch_gallery_migrations,
// under an advisory lock so concurrent openers do not race. The database
// needs the vector extension (CREATE EXTENSION vector, which Open attempts).
//
// Search asks the HNSW index for the nearest templates (approximate: raise
// Options.EfSearch for recall, see the README's measurements) and rescores
// them exactly in Go, so percentages are bit-identical to
// facematch.Matcher.CompareTemplates. EnrollUnique holds a transaction-level
// advisory lock per table, so the duplicate check and the insert are
// atomic across every process using the database.
//
// # Deletion
//
// Remove deletes the rows. PostgreSQL keeps a deleted row's bytes in the
// table's and the index's pages until VACUUM marks the space free and later
// writes reuse it; Vacuum (VACUUM FULL) rewrites the table and its index
// without them. The write-ahead log and any backups hold them until they
// are recycled or expire: set retention accordingly.
package pgvector

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgv "github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/gallery"
)

// DefaultEfSearch is the HNSW candidate list size of a search when
// Options.EfSearch is 0 (pgvector's own default is 40). With the table's
// index (m 32, ef_construction 200), on face-like templates (LFW's, topped
// up with Gaussian synthetic identities), it gives recall@10 against exact
// search of 1.000 at 10k templates and 0.9995 at 100k (200 would give 0.999
// in half the time; the margin is for larger galleries). On random
// templates, HNSW's worst case, pgvector's default index gives only 0.55 at
// 100k (gallery/MEASUREMENTS.md). Use the embedded gallery where exactness
// matters.
const DefaultEfSearch = 400

// Options configures a Gallery. A nil *Options means the defaults.
type Options struct {
	// Calibration maps cosines to percentages; nil is compare.DefaultCalibration().
	Calibration *compare.Calibration
	// Schema is the PostgreSQL schema of the tables ("" = public). Open
	// creates it when missing.
	Schema string
	// EfSearch is hnsw.ef_search for searches: the candidates the index
	// examines; higher is slower and closer to exact. 0 means
	// DefaultEfSearch; it is raised to K+8 when smaller, and capped at
	// 1000 (pgvector's limit).
	EfSearch int
}

// Gallery is the PostgreSQL gallery. It is safe for concurrent use.
type Gallery struct {
	pool     *pgxpool.Pool
	model    facematch.ModelID
	cal      compare.Calibration
	schema   string
	name     string // table name
	table    string // quoted, schema-qualified
	lockKey  int64  // advisory lock of the table
	efSearch int
	closed   atomic.Bool
}

var _ gallery.Gallery = (*Gallery)(nil)

// migrations are the schema versions of a model's table, applied in order.
// %[1]s is the quoted table name, %[2]s its index name.
var migrations = []string{
	1: `CREATE TABLE %[1]s (
		id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
		embedding vector(192) NOT NULL,
		enrolled_at timestamptz NOT NULL DEFAULT now())`,
	// m 32, ef_construction 200 rather than pgvector's 16 and 64: on
	// face-like templates at 100k, recall@10 0.9995 instead of 0.9905 at
	// ef_search 400 (0.999 already at 200), for a 17 % larger index and a
	// 3× slower build (gallery/MEASUREMENTS.md).
	2: `CREATE INDEX %[2]s ON %[1]s USING hnsw (embedding vector_cosine_ops) WITH (m = 32, ef_construction = 200)`,
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string), applies missing migrations and returns the gallery of model.
func Open(ctx context.Context, dsn string, model facematch.ModelID, opts *Options) (*Gallery, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	cal := compare.DefaultCalibration()
	if o.Calibration != nil {
		cal = *o.Calibration
	}
	if o.EfSearch < 0 || o.EfSearch > 1000 {
		return nil, fmt.Errorf("%w: EfSearch %d outside [0, 1000]", gallery.ErrInvalidSearch, o.EfSearch)
	}
	if o.EfSearch == 0 {
		o.EfSearch = DefaultEfSearch
	}
	schema := o.Schema
	if schema == "" {
		schema = "public"
	}
	name := "facematch_gallery_" + model.String()
	g := &Gallery{
		model:    model,
		cal:      cal,
		schema:   schema,
		name:     name,
		table:    pgx.Identifier{schema, name}.Sanitize(),
		efSearch: o.EfSearch,
	}
	h := fnv.New64a()
	h.Write([]byte(schema + "." + name))
	g.lockKey = int64(h.Sum64())

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", gallery.ErrStore, err)
	}
	// Migrate on one connection first: the pool's connections register the
	// vector type, which needs the extension to exist.
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, storeErr(err)
	}
	err = migrate(ctx, conn, schema, name, g.lockKey)
	conn.Close(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error { return pgxvec.RegisterTypes(ctx, c) }
	if g.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, storeErr(err)
	}
	return g, nil
}

func migrate(ctx context.Context, conn *pgx.Conn, schema, name string, lockKey int64) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey); err != nil {
			return err
		}
		var has bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')").Scan(&has); err != nil {
			return err
		}
		if !has {
			if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
				return fmt.Errorf("the vector extension is missing and could not be created: %w", err)
			}
		}
		mt := pgx.Identifier{schema, "facematch_gallery_migrations"}.Sanitize()
		stmts := []string{
			"CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{schema}.Sanitize(),
			"CREATE TABLE IF NOT EXISTS " + mt + ` (
				table_name text NOT NULL, version int NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now(),
				PRIMARY KEY (table_name, version))`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return err
			}
		}
		var have int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+mt+" WHERE table_name = $1", name).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations)-1 {
			return fmt.Errorf("table %s is at schema version %d, newer than this build's %d", name, have, len(migrations)-1)
		}
		table := pgx.Identifier{schema, name}.Sanitize()
		index := pgx.Identifier{name + "_hnsw"}.Sanitize()
		for v := have + 1; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[v], table, index)); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+mt+" (table_name, version) VALUES ($1, $2)", name, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeErr wraps database errors in gallery.ErrStore; context errors pass
// through as they are.
func storeErr(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", gallery.ErrStore, err)
}

func (g *Gallery) check(id string, t *facematch.Template) error {
	if g.closed.Load() {
		return gallery.ErrClosed
	}
	if err := gallery.CheckID(id); err != nil {
		return err
	}
	return facematch.CheckTemplate(t, g.model)
}

// Enroll implements gallery.Gallery.
func (g *Gallery) Enroll(ctx context.Context, id string, t *facematch.Template) error {
	if err := g.check(id, t); err != nil {
		return err
	}
	return g.insert(ctx, g.pool, id, t)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (g *Gallery) insert(ctx context.Context, db execer, id string, t *facematch.Template) error {
	_, err := db.Exec(ctx, "INSERT INTO "+g.table+" (id, embedding) VALUES ($1, $2)", id, pgv.NewVector(t.Vector))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return fmt.Errorf("%w: %q", gallery.ErrExists, id)
	}
	return storeErr(err)
}

// EnrollBatch enrolls many templates at once with COPY (one statement: all
// or none). Any id already enrolled, or given twice, is gallery.ErrExists.
func (g *Gallery) EnrollBatch(ctx context.Context, entries []gallery.Entry) error {
	rows := make([][]any, len(entries))
	for i, e := range entries {
		if err := g.check(e.ID, e.Template); err != nil {
			return err
		}
		rows[i] = []any{e.ID, pgv.NewVector(e.Template.Vector)}
	}
	_, err := g.pool.CopyFrom(ctx, pgx.Identifier{g.schema, g.name}, []string{"id", "embedding"}, pgx.CopyFromRows(rows))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %s", gallery.ErrExists, pe.Detail)
	}
	return storeErr(err)
}

// EnrollUnique implements gallery.Gallery.
func (g *Gallery) EnrollUnique(ctx context.Context, id string, t *facematch.Template, threshold float64) error {
	if err := g.check(id, t); err != nil {
		return err
	}
	if threshold == 0 {
		threshold = facematch.DefaultThreshold
	}
	if err := gallery.CheckUniqueThreshold(threshold); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		// Serialise EnrollUnique calls on this table across all clients.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", g.lockKey); err != nil {
			return storeErr(err)
		}
		ms, err := g.search(ctx, tx, t, 2, threshold*100)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.ID != id {
				return &gallery.DuplicateError{ID: m.ID, Percentage: m.Percentage}
			}
		}
		return g.insert(ctx, tx, id, t)
	})
}

// Remove implements gallery.Gallery (see the package documentation on what
// deletion means in PostgreSQL).
func (g *Gallery) Remove(ctx context.Context, ids ...string) (int, error) {
	if g.closed.Load() {
		return 0, gallery.ErrClosed
	}
	for _, id := range ids {
		if err := gallery.CheckID(id); err != nil {
			return 0, err
		}
	}
	tag, err := g.pool.Exec(ctx, "DELETE FROM "+g.table+" WHERE id = ANY($1)", ids)
	if err != nil {
		return 0, storeErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// Vacuum runs VACUUM FULL on the model's table: it rewrites the table and
// its HNSW index without the bytes of removed rows (and blocks other access
// to the table while it runs).
func (g *Gallery) Vacuum(ctx context.Context) error {
	if g.closed.Load() {
		return gallery.ErrClosed
	}
	_, err := g.pool.Exec(ctx, "VACUUM FULL "+g.table)
	return storeErr(err)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Search implements gallery.Gallery.
func (g *Gallery) Search(ctx context.Context, t *facematch.Template, opts *gallery.SearchOptions) ([]gallery.Match, error) {
	if g.closed.Load() {
		return nil, gallery.ErrClosed
	}
	k, minP := gallery.DefaultK, 0.0
	if opts != nil {
		o := *opts
		if err := gallery.CheckSearchOptions(&o); err != nil {
			return nil, err
		}
		if o.K != 0 {
			k = o.K
		}
		minP = o.MinPercentage
	}
	if err := facematch.CheckTemplate(t, g.model); err != nil {
		return nil, err
	}
	var out []gallery.Match
	err := pgx.BeginFunc(ctx, g.pool, func(tx pgx.Tx) error {
		var err error
		out, err = g.search(ctx, tx, t, k, minP)
		return err
	})
	return out, err
}

// search runs in tx (SET LOCAL needs one).
func (g *Gallery) search(ctx context.Context, tx querier, t *facematch.Template, k int, minP float64) ([]gallery.Match, error) {
	limit := min(k+8, 1000) // a few more than k: Rank reorders near-ties exactly
	ef := min(max(g.efSearch, limit), 1000)
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL hnsw.ef_search = %d", ef)); err != nil {
		return nil, storeErr(err)
	}
	rows, err := tx.Query(ctx, "SELECT id, embedding FROM "+g.table+" ORDER BY embedding <=> $1 LIMIT $2", pgv.NewVector(t.Vector), limit)
	if err != nil {
		return nil, storeErr(err)
	}
	var cands []gallery.Candidate
	for rows.Next() {
		var id string
		var v pgv.Vector
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return nil, storeErr(err)
		}
		if len(v.Slice()) != embed.Dim {
			rows.Close()
			return nil, fmt.Errorf("%w: %q has %d values", gallery.ErrStore, id, len(v.Slice()))
		}
		cands = append(cands, gallery.Candidate{ID: id, Vector: v.Slice()})
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err)
	}
	return gallery.Rank(cands, t.Vector, g.cal, k, minP), nil
}

// Count implements gallery.Gallery.
func (g *Gallery) Count(ctx context.Context) (int, error) {
	if g.closed.Load() {
		return 0, gallery.ErrClosed
	}
	var n int64
	if err := g.pool.QueryRow(ctx, "SELECT count(*) FROM "+g.table).Scan(&n); err != nil {
		return 0, storeErr(err)
	}
	return int(n), nil
}

// Schema returns the PostgreSQL schema of the gallery's tables.
func (g *Gallery) Schema() string { return g.schema }

// Close implements gallery.Gallery.
func (g *Gallery) Close() error {
	if g.closed.Swap(true) {
		return nil
	}
	g.pool.Close()
	return nil
}
