package pgvector_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/gallerytest"
	"github.com/facematch/facematch/gallery/pgvector"
)

// DSNEnv names the environment variable holding the DSN of a throw-away
// database for these tests; .ci/postgres.sh starts one and prints it.
const DSNEnv = "FACEMATCH_TEST_POSTGRES"

var schemaSeq atomic.Int64

// openFresh opens the gallery in a new schema, dropped when t ends.
func openFresh(t *testing.T, opts *pgvector.Options) *pgvector.Gallery {
	t.Helper()
	dsn := os.Getenv(DSNEnv)
	if dsn == "" {
		t.Skipf("%s is not set: no PostgreSQL with pgvector to test against (eval \"$(.ci/postgres.sh start)\" starts one)", DSNEnv)
	}
	ctx := context.Background()
	schema := fmt.Sprintf("facematch_test_%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	var o pgvector.Options
	if opts != nil {
		o = *opts
	}
	o.Schema = schema
	g, err := pgvector.Open(ctx, dsn, gallerytest.Model(), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return g
}

func TestConformance(t *testing.T) {
	gallerytest.Run(t, func(t *testing.T) gallery.Gallery { return openFresh(t, nil) })
}

func TestMigrationsAreIdempotent(t *testing.T) {
	g := openFresh(t, nil)
	defer g.Close()
	ctx := context.Background()
	if err := g.Enroll(ctx, "a", gallerytest.RandomTemplate(newRand(), gallerytest.Model())); err != nil {
		t.Fatal(err)
	}
	// Opening the same schema again applies nothing and keeps the data.
	g2, err := pgvector.Open(ctx, os.Getenv(DSNEnv), gallerytest.Model(), &pgvector.Options{Schema: g.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	if n, err := g2.Count(ctx); err != nil || n != 1 {
		t.Fatalf("Count after reopening = %d, %v", n, err)
	}
	r := newRand()
	batch := []gallery.Entry{{ID: "b", Template: gallerytest.RandomTemplate(r, gallerytest.Model())}, {ID: "c", Template: gallerytest.RandomTemplate(r, gallerytest.Model())}}
	if err := g2.EnrollBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := g2.EnrollBatch(ctx, batch[:1]); !errors.Is(err, gallery.ErrExists) {
		t.Fatalf("EnrollBatch of an enrolled id: %v", err)
	}
	if ms, err := g2.Search(ctx, batch[1].Template, &gallery.SearchOptions{K: 1}); err != nil || len(ms) != 1 || ms[0].ID != "c" {
		t.Fatalf("search after EnrollBatch: %v %v", ms, err)
	}
	if _, err := g2.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := g2.Vacuum(ctx); err != nil {
		t.Fatal(err)
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
