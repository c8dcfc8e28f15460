package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirFromEnv(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvVar, root)
	if got, want := Dir("lfw"), filepath.Join(root, "datasets", "lfw"); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	t.Setenv(EnvVar, filepath.Join(root, "missing"))
	if got := Dir("lfw"); got != "" {
		t.Errorf("Dir with a missing $%s = %q, want \"\"", EnvVar, got)
	}
}

func TestDirBesideModule(t *testing.T) {
	t.Setenv(EnvVar, "")
	top := t.TempDir()
	mod := filepath.Join(top, "repo")
	sub := filepath.Join(mod, "bench", "cmd")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	if got := Dir("orl"); got != "" {
		t.Errorf("no shared folder: Dir = %q, want \"\"", got)
	}
	if err := os.Mkdir(filepath.Join(top, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, want := Dir("orl"), filepath.Join(top, "shared", "datasets", "orl"); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
}
