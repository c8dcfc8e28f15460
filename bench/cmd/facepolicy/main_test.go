package main

import (
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/facematch/facematch"
)

func TestCollage(t *testing.T) {
	dir := t.TempDir()
	var tiles []string
	for i, c := range []uint8{10, 80, 160, 240, 120} {
		img := image.NewGray(image.Rect(0, 0, 30, 20))
		for j := range img.Pix {
			img.Pix[j] = c
		}
		name := filepath.Join(dir, string(rune('a'+i))+".png")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		tiles = append(tiles, filepath.Base(name))
	}
	col, err := collage(func(rel string) string { return filepath.Join(dir, rel) }, tiles)
	if err != nil {
		t.Fatal(err)
	}
	// 5 tiles → a 3x2 grid of 30x20 cells, filled row by row.
	if b := col.Bounds(); b.Dx() != 90 || b.Dy() != 40 {
		t.Fatalf("collage %v", b)
	}
	for i, want := range []uint8{10, 80, 160, 240, 120} {
		x, y := i%3*30+15, i/3*20+10
		if got := color.GrayModel.Convert(col.At(x, y)).(color.Gray).Y; got != want {
			t.Errorf("tile %d at (%d,%d) = %d, want %d", i, x, y, got, want)
		}
	}
	if _, err := collage(func(rel string) string { return filepath.Join(dir, rel) }, []string{"missing.png"}); err == nil {
		t.Error("a missing tile was not an error")
	}
}

func TestTally(t *testing.T) {
	var tl tally
	for _, p := range []float64{69.99, 70, 80, 95, 100} {
		tl.add(&facematch.Result{Percentage: p, MultipleFaces: p > 90})
	}
	if tl.n != 5 || tl.multiple != 2 || tl.accepts != [4]int{4, 3, 2, 2} {
		t.Fatalf("tally %+v", tl)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{}, // --scores is required
		{"--scores", "s.tsv", "--collage-faces", "1"},
		{"--scores", "s.tsv", "--collage-faces", "x"},
		{"--scores", "s.tsv", "--workers", "0"},
		{"--scores", "s.tsv", "extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) succeeded", args)
		}
	}
	c, err := parseFlags([]string{"--scores", "s.tsv", "--data", "d", "--collage-faces", "2, 16"}, io.Discard)
	if err != nil || c.pairs != filepath.Join("d", "pairs.txt") || len(c.collageFaces) != 2 || c.collageFaces[1] != 16 {
		t.Fatalf("parseFlags: %+v, %v", c, err)
	}
}
