package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindWalksUpToModuleRoot(t *testing.T) {
	// This package lives two levels below go.mod, so a shared folder, when there
	// is one, must be the module root's sibling named "shared".
	d := Find()
	if d == "" {
		t.Skip("no shared folder beside this checkout")
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

func TestPathSkipsWhenMissing(t *testing.T) {
	ran := false
	t.Run("missing", func(t *testing.T) {
		defer func() { ran = true }()
		Path(t, "definitely-not-here-7f3a")
		t.Fatal("Path should have skipped")
	})
	if !ran {
		t.Fatal("subtest did not run")
	}
}
