// Package sharedtest locates the read-only ../shared data folder that sits beside
// the module root in development and CI checkouts. Tests that need it call Dir or
// Path, which skip the test with a clear message when the folder is absent (a
// user's fresh clone), so such tests never fail for lack of data.
//
// CI sets $FACEMATCH_REQUIRE_SHARED=1: the same calls then fail the test
// instead of skipping it, so a green CI run always means the data-driven
// tests ran.
package sharedtest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvVar overrides the location of the shared folder.
const EnvVar = "FACEMATCH_SHARED"

// RequireEnvVar, set to 1, turns every skip for missing shared data into a
// test failure (CI sets it).
const RequireEnvVar = "FACEMATCH_REQUIRE_SHARED"

// Required reports whether $FACEMATCH_REQUIRE_SHARED asks for the shared
// data to be present.
func Required() bool { return os.Getenv(RequireEnvVar) == "1" }

var (
	once sync.Once
	dir  string
)

// Find returns the shared folder, or "" when there is none. It honours
// $FACEMATCH_SHARED, else walks up from the working directory to the module
// root (the folder holding go.mod) and looks for ../shared beside it.
func Find() string {
	once.Do(func() {
		if d := os.Getenv(EnvVar); d != "" {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				dir = d
			}
			return
		}
		wd, err := os.Getwd()
		if err != nil {
			return
		}
		for d := wd; ; {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				cand := filepath.Join(filepath.Dir(d), "shared")
				if st, err := os.Stat(cand); err == nil && st.IsDir() {
					dir = cand
				}
				return
			}
			parent := filepath.Dir(d)
			if parent == d {
				return
			}
			d = parent
		}
	})
	return dir
}

// Dir returns the shared folder or skips t when it is absent.
func Dir(t testing.TB) string {
	t.Helper()
	return requireDir(t, Required())
}

func requireDir(t testing.TB, required bool) string {
	t.Helper()
	d := Find()
	if d == "" {
		missing(t, required, "../shared (fixtures, golden data, LFW) is not beside the module root; set "+EnvVar+" to point at it")
	}
	return d
}

// missing skips t, or fails it when the shared data is required.
func missing(t testing.TB, required bool, what string) {
	t.Helper()
	if required {
		t.Fatal(what + " (" + RequireEnvVar + "=1: the shared data is required)")
	}
	t.Skip("skipping: " + what)
}

// Path joins elem onto the shared folder and skips t when that file or folder
// does not exist.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	return path(t, Required(), elem...)
}

func path(t testing.TB, required bool, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{requireDir(t, required)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		missing(t, required, p+" is missing from the shared folder")
	}
	return p
}
