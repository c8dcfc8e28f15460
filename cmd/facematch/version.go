package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/weights"
)

func init() {
	commands["version"] = command{run: runVersion, summary: "print the module version, the Go version and the SHA-256 of every bundled model"}
}

type versionJSON struct {
	Module      string              `json:"module"`
	Version     string              `json:"version"`
	Revision    string              `json:"revision,omitempty"`
	Go          string              `json:"go"`
	Model       string              `json:"model"`
	Calibration compare.Calibration `json:"calibration"`
	Models      []modelSum          `json:"models"`
}

type modelSum struct {
	Name   string `json:"name"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// buildVersion returns the main module's path and version as recorded by
// the go command ("(devel)" for a build from a checkout, which then
// carries the VCS revision).
func buildVersion() (path, version, revision string) {
	path, version = "github.com/facematch/facematch", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return path, version, ""
	}
	if bi.Main.Path != "" {
		path = bi.Main.Path
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value + revision
		case "vcs.modified":
			if s.Value == "true" {
				revision += " (modified)"
			}
		}
	}
	return path, version, revision
}

// modelSums hashes the model files compiled into the binary, so a
// deployment can be checked against the published checksums.
func modelSums() []modelSum {
	files := []struct {
		name string
		data []byte
	}{
		{"mobilefacenet.tflite", weights.MobileFaceNet()},
		{"onet.tflite", weights.ONet()},
		{"pigo/facefinder", weights.FaceFinder()},
		{"pigo/puploc", weights.PupilLocator()},
		{"pigo/lps/lp93", weights.NoseTip()},
		{"pigo/lps/lp84", weights.MouthCorner()},
	}
	out := make([]modelSum, len(files))
	for i, f := range files {
		h := sha256.Sum256(f.data)
		out[i] = modelSum{Name: f.name, Bytes: len(f.data), SHA256: hex.EncodeToString(h[:])}
	}
	return out
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "version [--json]", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	pos, err := parseArgs(fs, args)
	if err == flagErrHelp {
		return exitMatch
	}
	if err != nil || len(pos) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected arguments %q", pos)
		}
		return fail(fmt.Errorf("%w: %v", errUsage, err), jsonRequested(args), stdout, stderr)
	}
	path, version, rev := buildVersion()
	v := versionJSON{Module: path, Version: version, Revision: rev, Go: runtime.Version(),
		Model: facematch.Model, Calibration: compare.DefaultCalibration(), Models: modelSums()}
	if *asJSON {
		writeJSON(stdout, v)
		return exitMatch
	}
	fmt.Fprintf(stdout, "facematch %s %s", v.Module, v.Version)
	if v.Revision != "" {
		fmt.Fprintf(stdout, " (revision %s)", v.Revision)
	}
	fmt.Fprintf(stdout, ", %s %s/%s\n", v.Go, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "model %s\n", v.Model)
	fmt.Fprintf(stdout, "calibration A=%v B=%v\n", v.Calibration.A, v.Calibration.B)
	for _, m := range v.Models {
		fmt.Fprintf(stdout, "sha256 %s  %s (%d bytes)\n", m.SHA256, m.Name, m.Bytes)
	}
	return exitMatch
}
