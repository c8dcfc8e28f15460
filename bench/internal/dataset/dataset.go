// Package dataset finds the development data sets the benchmark tools
// default to when no --data is given: the datasets folder of the read-only
// "shared" directory that sits beside the module root in development
// checkouts, or $FACEMATCH_SHARED.
//
// It is the tools' own lookup: internal/sharedtest does the same for tests,
// with skipping and CI's require switch, and a command must not depend on
// a test helper.
package dataset

import (
	"os"
	"path/filepath"
)

// EnvVar names the shared folder explicitly; it wins over the search.
const EnvVar = "FACEMATCH_SHARED"

// Dir returns the folder of data set name (for example "lfw") inside the
// shared folder, or "" when there is no shared folder. It does not check
// that the data set itself exists: the tool reading it reports that.
func Dir(name string) string {
	root := sharedRoot()
	if root == "" {
		return ""
	}
	return filepath.Join(root, "datasets", name)
}

// sharedRoot honours $FACEMATCH_SHARED, else walks up from the working
// directory to the module root (the folder holding go.mod) and looks for
// ../shared beside it.
func sharedRoot() string {
	if d := os.Getenv(EnvVar); d != "" {
		if isDir(d) {
			return d
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if cand := filepath.Join(filepath.Dir(d), "shared"); isDir(cand) {
				return cand
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
