package sharedtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestFindWalksUpToModuleRoot(t *testing.T) {
	// This package lives two levels below go.mod, so a shared folder, when there
	// is one, must be the module root's sibling named "shared".
	d := Find()
	if d == "" {
		missing(t, Required(), "no shared folder beside this checkout")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("expected go.mod two levels up: %v", err)
	}
	if want := filepath.Join(filepath.Dir(root), "shared"); d != want && os.Getenv(EnvVar) == "" {
		t.Fatalf("Find() = %q, want %q", d, want)
	}
}

// recorder is a testing.TB that records Skip and Fatal and ends its
// goroutine like the real ones do.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(...any)           { r.skipped = true; runtime.Goexit() }
func (r *recorder) Fatal(...any)          { r.failed = true; runtime.Goexit() }
func (r *recorder) Skipf(string, ...any)  { r.Skip() }
func (r *recorder) Fatalf(string, ...any) { r.Fatal() }

func TestPathMissing(t *testing.T) {
	for _, required := range []bool{false, true} {
		r := &recorder{TB: t}
		done := make(chan bool)
		go func() {
			defer close(done)
			path(r, required, "definitely-not-here-7f3a")
			done <- true
		}()
		if <-done {
			t.Fatalf("required=%v: path returned for a missing file", required)
		}
		if r.skipped == required || r.failed != required {
			t.Errorf("required=%v: skipped=%v failed=%v, want a %s", required, r.skipped, r.failed, map[bool]string{false: "skip", true: "failure"}[required])
		}
	}
}
