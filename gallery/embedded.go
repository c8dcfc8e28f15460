package gallery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
)

// Embedded is the default Gallery: exact search in process, persisted in
// one bbolt file (go.etcd.io/bbolt: a B+tree with copy-on-write pages and
// an fsync per committed transaction, so a crash at any point leaves the
// file as of the last committed enrolment).
//
// All templates are held in memory, packed for the GEMM kernels (768 bytes
// each); a search scores every one of them. Writers are serialised; searches
// run concurrently with each other and only wait for the moment a writer
// updates the in-memory index. One process at a time may open a file (a
// second Open fails with ErrStore after a second).
type Embedded struct {
	path  string
	model facematch.ModelID
	cal   compare.Calibration

	wmu sync.Mutex // serialises writers, and guards db
	db  *bolt.DB

	mu     sync.RWMutex // guards idx and closed
	idx    *index
	closed bool
}

var _ Gallery = (*Embedded)(nil)

// bbolt layout: bucket "meta" holds "format" (embeddedFormat) and "model"
// (the ModelID as hex); bucket "templates" maps each id to its encoded
// facematch.Template.
var (
	bucketMeta      = []byte("meta")
	bucketTemplates = []byte("templates")
	keyFormat       = []byte("format")
	keyModel        = []byte("model")
)

const embeddedFormat = "facematch-gallery/1"

// Open opens (creating it if needed) the gallery file at path for templates
// of model and loads its templates into memory. A file made for another
// model is ErrModel.
func Open(path string, model facematch.ModelID, opts *Options) (*Embedded, error) {
	// A compaction interrupted by a crash leaves its unfinished copy; the
	// file itself is intact (the copy replaces it only once complete).
	if err := os.Remove(compactPath(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	db, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	g := &Embedded{path: path, model: model, cal: opts.calibration(), db: db, idx: newIndex()}
	if err := g.load(); err != nil {
		db.Close()
		return nil, err
	}
	return g, nil
}

// NewMemory returns an Embedded gallery that is not persisted: the same
// search, held in memory only, gone when the process ends or Close is
// called (for tests, benchmarks and short-lived de-duplication runs).
func NewMemory(model facematch.ModelID, opts *Options) *Embedded {
	return &Embedded{path: "(memory)", model: model, cal: opts.calibration(), idx: newIndex()}
}

func compactPath(path string) string { return path + ".compact" }

func openBolt(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrStore, path, err)
	}
	return db, nil
}

func (g *Embedded) load() error {
	err := g.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketTemplates); err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, []byte(embeddedFormat)); err != nil {
				return err
			}
			return meta.Put(keyModel, []byte(g.model.String()))
		case string(f) != embeddedFormat:
			return fmt.Errorf("%w: %s is in format %q, this build reads %q", ErrStore, g.path, f, embeddedFormat)
		}
		if m := string(meta.Get(keyModel)); m != g.model.String() {
			return fmt.Errorf("%w: %s holds templates of model %s, not %s", ErrModel, g.path, m, g.model)
		}
		return nil
	})
	if err != nil {
		return wrapStore(err)
	}
	return g.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTemplates).ForEach(func(k, v []byte) error {
			t, err := facematch.ParseTemplate(v)
			if err == nil {
				err = facematch.CheckTemplate(t, g.model)
			}
			if err != nil {
				return fmt.Errorf("%w: %s: template %q: %w", ErrStore, g.path, k, err)
			}
			g.idx.add(string(k), t.Vector)
			return nil
		})
	})
}

// wrapStore marks an error of bbolt as ErrStore (errors that already carry
// a sentinel of this package pass through).
func wrapStore(err error) error {
	if err == nil || errors.Is(err, ErrStore) || errors.Is(err, ErrModel) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

// Entry is one template to enroll with EnrollBatch.
type Entry struct {
	ID       string
	Template *facematch.Template
}

// Enroll implements Gallery.
func (g *Embedded) Enroll(ctx context.Context, id string, t *facematch.Template) error {
	return g.EnrollBatch(ctx, []Entry{{id, t}})
}

// EnrollBatch enrolls many templates in one transaction (one fsync): all
// or none. Any id already enrolled, or given twice, is ErrExists.
func (g *Embedded) EnrollBatch(ctx context.Context, entries []Entry) error {
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if err := CheckID(e.ID); err != nil {
			return err
		}
		if err := facematch.CheckTemplate(e.Template, g.model); err != nil {
			return err
		}
		if seen[e.ID] {
			return fmt.Errorf("%w: %q given twice", ErrExists, truncate(e.ID))
		}
		seen[e.ID] = true
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return g.enrollLocked(entries)
}

// enrollLocked stores validated entries; g.wmu is held.
func (g *Embedded) enrollLocked(entries []Entry) error {
	g.mu.RLock()
	closed := g.closed
	for _, e := range entries {
		if _, ok := g.idx.slots[e.ID]; ok && !closed {
			g.mu.RUnlock()
			return fmt.Errorf("%w: %q", ErrExists, truncate(e.ID))
		}
	}
	g.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	err := g.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTemplates)
		for _, e := range entries {
			v, err := e.Template.MarshalBinary()
			if err != nil {
				return err
			}
			if err := b.Put([]byte(e.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return wrapStore(err)
	}
	g.mu.Lock()
	for _, e := range entries {
		g.idx.add(e.ID, e.Template.Vector)
	}
	g.mu.Unlock()
	return nil
}

// EnrollUnique implements Gallery.
func (g *Embedded) EnrollUnique(ctx context.Context, id string, t *facematch.Template, threshold float64) error {
	if err := CheckID(id); err != nil {
		return err
	}
	if err := facematch.CheckTemplate(t, g.model); err != nil {
		return err
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	// Holding wmu, no other enrolment can slip in between check and store.
	if err := duplicateCheck(ctx, g, id, t, threshold); err != nil {
		return err
	}
	return g.enrollLocked([]Entry{{id, t}})
}

// Remove implements Gallery. The templates are deleted in one transaction,
// then the file is compacted — rewritten with only the live templates and
// renamed over the old one — because bbolt, like every copy-on-write store,
// leaves deleted values in free pages until they happen to be reused.
// After Remove returns, the file no longer holds the removed templates
// (the filesystem may still hold the old file's released blocks; see the
// README on full-disk encryption). Compaction costs a copy of the gallery
// (about 0.8 GB per million templates), so remove many ids in one call.
func (g *Embedded) Remove(ctx context.Context, ids ...string) (int, error) {
	for _, id := range ids {
		if err := CheckID(id); err != nil {
			return 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.mu.RLock()
	closed := g.closed
	g.mu.RUnlock()
	if closed {
		return 0, ErrClosed
	}
	var removed []string
	if g.db == nil {
		for _, id := range ids {
			if _, ok := g.idx.slots[id]; ok && !slices.Contains(removed, id) {
				removed = append(removed, id)
			}
		}
	}
	err := g.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTemplates)
		removed = removed[:0]
		for _, id := range ids {
			if b.Get([]byte(id)) == nil {
				continue
			}
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
			removed = append(removed, id)
		}
		return nil
	})
	if err != nil {
		return 0, wrapStore(err)
	}
	g.mu.Lock()
	for _, id := range removed {
		g.idx.remove(id)
	}
	g.mu.Unlock()
	if len(removed) == 0 || g.db == nil {
		return len(removed), nil
	}
	if err := g.compact(); err != nil {
		return len(removed), fmt.Errorf("removed %d, but the file could not be compacted and may still hold their bytes: %w", len(removed), err)
	}
	return len(removed), nil
}

// update runs fn in a write transaction of the file; a memory gallery has
// none.
func (g *Embedded) update(fn func(tx *bolt.Tx) error) error {
	if g.db == nil {
		return nil
	}
	return g.db.Update(fn)
}

// compact rewrites the file with its live data only; g.wmu is held.
func (g *Embedded) compact() error {
	tmp := compactPath(g.path)
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return wrapStore(err)
	}
	if err := bolt.Compact(dst, g.db, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return wrapStore(err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return wrapStore(err)
	}
	// bbolt fsyncs each committed transaction of dst; the rename makes the
	// new file current atomically, and the directory sync makes that
	// durable.
	if err := os.Rename(tmp, g.path); err != nil {
		os.Remove(tmp)
		return wrapStore(err)
	}
	syncDir(filepath.Dir(g.path))
	if err := g.db.Close(); err != nil {
		return wrapStore(err)
	}
	db, err := openBolt(g.path)
	if err != nil {
		g.mu.Lock()
		g.closed = true // no usable handle left
		g.mu.Unlock()
		return err
	}
	g.db = db
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every platform syncs directories
		d.Close()
	}
}

// Search implements Gallery. It is exact: every enrolled template is
// scored.
func (g *Embedded) Search(ctx context.Context, t *facematch.Template, opts *SearchOptions) ([]Match, error) {
	k, minP, minCos, err := searchParams(opts, g.cal)
	if err != nil {
		return nil, err
	}
	if err := facematch.CheckTemplate(t, g.model); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return nil, ErrClosed
	}
	// A few more than k: the kernels' rounding may order near-ties
	// differently from compare.Cosine, which Rank applies.
	slots := g.idx.search(t.Vector, k+8, minCos)
	cands := make([]Candidate, len(slots))
	for i, s := range slots {
		cands[i] = Candidate{ID: g.idx.ids[s], Vector: g.idx.vector(s)}
	}
	g.mu.RUnlock()
	return Rank(cands, t.Vector, g.cal, k, minP), nil
}

// Count implements Gallery.
func (g *Embedded) Count(context.Context) (int, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return 0, ErrClosed
	}
	return g.idx.len(), nil
}

// Close implements Gallery.
func (g *Embedded) Close() error {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	g.idx = newIndex()
	if g.db == nil {
		return nil
	}
	return wrapStore(g.db.Close())
}
