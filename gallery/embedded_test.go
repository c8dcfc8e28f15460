package gallery_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/gallery"
	"github.com/facematch/facematch/gallery/gallerytest"
)

func openTemp(t *testing.T) (*gallery.Embedded, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gallery.db")
	g, err := gallery.Open(path, gallerytest.Model(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return g, path
}

func TestEmbeddedConformance(t *testing.T) {
	gallerytest.Run(t, func(t *testing.T) gallery.Gallery {
		g, _ := openTemp(t)
		return g
	})
}

func TestMemoryConformance(t *testing.T) {
	gallerytest.Run(t, func(t *testing.T) gallery.Gallery { return gallery.NewMemory(gallerytest.Model(), nil) })
}

func TestEmbeddedPersists(t *testing.T) {
	ctx := context.Background()
	g, path := openTemp(t)
	r := rand.New(rand.NewPCG(1, 1))
	ts := map[string]*facematch.Template{}
	var entries []gallery.Entry
	for i := range 2100 { // more than two blocks of the index
		id := fmt.Sprint("id", i)
		ts[id] = gallerytest.RandomTemplate(r, gallerytest.Model())
		entries = append(entries, gallery.Entry{ID: id, Template: ts[id]})
	}
	if err := g.EnrollBatch(ctx, entries); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Remove(ctx, "id7", "id2099"); err != nil {
		t.Fatal(err)
	}
	delete(ts, "id7")
	delete(ts, "id2099")
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := gallery.Open(path, gallerytest.OtherModel(), nil); !errors.Is(err, gallery.ErrModel) || !errors.Is(err, facematch.ErrTemplateModel) {
		t.Fatalf("open for another model: %v", err)
	}
	g, err := gallery.Open(path, gallerytest.Model(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if n, _ := g.Count(ctx); n != len(ts) {
		t.Fatalf("reopened: %d templates, want %d", n, len(ts))
	}
	for id, tp := range ts {
		ms, err := g.Search(ctx, tp, &gallery.SearchOptions{K: 1})
		if err != nil || len(ms) != 1 || ms[0].ID != id || ms[0].Similarity < 0.9999 {
			t.Fatalf("after reopening, %s: %+v %v", id, ms, err)
		}
	}
}

// TestEmbeddedRemoveErasesBytes checks that deletion is real: the file no
// longer holds the removed template's vector, which copy-on-write stores
// otherwise keep in free pages.
func TestEmbeddedRemoveErasesBytes(t *testing.T) {
	ctx := context.Background()
	g, path := openTemp(t)
	defer g.Close()
	r := rand.New(rand.NewPCG(2, 2))
	victim := gallerytest.RandomTemplate(r, gallerytest.Model())
	for i := range 100 {
		if err := g.Enroll(ctx, fmt.Sprint("id", i), gallerytest.RandomTemplate(r, gallerytest.Model())); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Enroll(ctx, "victim", victim); err != nil {
		t.Fatal(err)
	}
	raw, _ := victim.MarshalBinary()
	vecBytes := raw[len(raw)-4*len(victim.Vector):]
	contains := func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, vecBytes[:64])
	}
	if !contains() {
		t.Fatal("the enrolled vector is not in the file: the test cannot see deletion")
	}
	if n, err := g.Remove(ctx, "victim"); err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	if contains() {
		t.Fatal("the file still holds the removed template's vector")
	}
	if n, _ := g.Count(ctx); n != 100 {
		t.Fatalf("%d templates after removal, want 100", n)
	}
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("compaction left its temporary file: %v", err)
	}
}

func TestEmbeddedSecondOpenFails(t *testing.T) {
	g, path := openTemp(t)
	defer g.Close()
	if _, err := gallery.Open(path, gallerytest.Model(), nil); !errors.Is(err, gallery.ErrStore) {
		t.Fatalf("second Open of a file in use: %v", err)
	}
}

// crashChildEnv makes the test binary, run by TestEmbeddedCrashSafe, enroll
// templates into the file it names until it is killed.
const crashChildEnv = "FACEMATCH_GALLERY_CRASH_CHILD"

func TestEmbeddedCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("helper process of TestEmbeddedCrashSafe")
	}
	g, err := gallery.Open(path, gallerytest.Model(), nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		// Template i is a function of i alone, so the parent can check it.
		tp := gallerytest.RandomTemplate(rand.New(rand.NewPCG(uint64(i), 0)), gallerytest.Model())
		if err := g.Enroll(context.Background(), fmt.Sprint("id", i), tp); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("enrolled", i) // only after Enroll returned: committed
	}
}

// TestEmbeddedCrashSafe kills a process in the middle of enrolling
// (SIGKILL: no deferred code, no flush) and checks that the file opens and
// holds every enrolment that had returned, intact, and nothing corrupt.
func TestEmbeddedCrashSafe(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEmbeddedCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		last := -1
		stopAt := 40 + 37*round
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child: %s", line)
			}
			var i int
			if _, err := fmt.Sscanf(line, "enrolled %d", &i); err == nil {
				last = i
			}
			if last >= stopAt {
				break
			}
		}
		// Kill while it is in the middle of the next enrolments.
		time.Sleep(time.Duration(round) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		if last < stopAt {
			t.Fatalf("child stopped after %d enrolments", last+1)
		}

		g, err := gallery.Open(path, gallerytest.Model(), nil)
		if err != nil {
			t.Fatalf("round %d: reopening after the crash: %v", round, err)
		}
		n, _ := g.Count(context.Background())
		// Every acknowledged enrolment is there (and perhaps a few more
		// that committed before the parent read their acknowledgement),
		// each intact: ids 0..n-1 with their own templates.
		if n < last+1 {
			t.Fatalf("round %d: %d templates, %d were acknowledged", round, n, last+1)
		}
		for i := range n {
			tp := gallerytest.RandomTemplate(rand.New(rand.NewPCG(uint64(i), 0)), gallerytest.Model())
			ms, err := g.Search(context.Background(), tp, &gallery.SearchOptions{K: 1})
			if err != nil || len(ms) != 1 || ms[0].ID != fmt.Sprint("id", i) || ms[0].Similarity < 0.9999 {
				t.Fatalf("round %d: id%d after the crash: %+v %v", round, i, ms, err)
			}
		}
		// Clear it for the next round, so the child starts from id0 again;
		// this also exercises compaction of a crashed file.
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint("id", i)
		}
		if _, err := g.Remove(context.Background(), ids...); err != nil {
			t.Fatal(err)
		}
		g.Close()
	}
}
