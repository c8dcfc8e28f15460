// Package lfwcrop builds, in memory, the face crops of issue 9's
// reproduction: each LFW image of pairs.txt cut to its reference face box
// (../shared/golden/landmarks/lfw-5point.jsonl, box = x, y, width, height)
// grown by a margin on every side. A margin of 0 keeps exactly the box, 0.25
// adds a quarter of the box's width (height) left and right (top and
// bottom), −0.1 cuts a tenth off each side. The crops are clipped to the
// image.
//
// It exists for tests and benchmarks only: the crops are derived from
// ../shared and are never committed. WriteDataset writes them as an LFW
// folder tree with pairs.txt, for bench/cmd/lfw --data DIR, optionally
// enlarged (Scale): a small, soft portrait that fills the frame, as an
// ID-document photo upscaled by the platform that sends it is.
package lfwcrop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	xdraw "golang.org/x/image/draw"

	_ "image/png" // LFW is JPEG; PNG for completeness
)

// Ref is one line of lfw-5point.jsonl.
type Ref struct {
	ID     string        `json:"id"` // "lfw/Name/Name_0001.jpg"
	Box    [4]float64    `json:"box"`
	Points [5][2]float64 `json:"points"`
}

// ReadRefs reads the reference file (limit > 0: only its first limit lines).
func ReadRefs(path string, limit int) ([]Ref, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var refs []Ref
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Ref
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("lfwcrop: %s: %v", path, err)
		}
		refs = append(refs, r)
		if limit > 0 && len(refs) == limit {
			break
		}
	}
	return refs, sc.Err()
}

// Rect is the crop of box grown by margin on every side, clipped to bounds.
func Rect(box [4]float64, margin float64, bounds image.Rectangle) image.Rectangle {
	x0 := box[0] - margin*box[2]
	y0 := box[1] - margin*box[3]
	x1 := box[0] + box[2] + margin*box[2]
	y1 := box[1] + box[3] + margin*box[3]
	r := image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1)), int(math.Round(y1)))
	return r.Intersect(bounds)
}

// Crop returns a copy of img cut to Rect(box, margin, img.Bounds()), with its
// origin at (0, 0), as *image.RGBA.
func Crop(img image.Image, box [4]float64, margin float64) *image.RGBA {
	r := Rect(box, margin, img.Bounds())
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// Scale returns img enlarged by k (Catmull-Rom), or img itself for k ≤ 1.
func Scale(img *image.RGBA, k float64) *image.RGBA {
	if k <= 1 {
		return img
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, int(math.Round(k*float64(b.Dx()))), int(math.Round(k*float64(b.Dy())))))
	xdraw.CatmullRom.Scale(out, out.Bounds(), img, b, xdraw.Src, nil)
	return out
}

// Load decodes the image of ref under the datasets folder (the parent of
// lfw/).
func Load(datasets string, ref Ref) (image.Image, error) {
	f, err := os.Open(filepath.Join(datasets, filepath.FromSlash(ref.ID)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// WriteDataset writes the margin crops of every ref to dir as an LFW tree
// (dir/Name/Name_0001.jpg, JPEG quality 95) and copies pairs.txt from
// datasets/lfw, so that `go run ./bench/cmd/lfw --data dir` evaluates them.
// Images missing from refs are written uncropped, so every pair has both
// images; it returns how many of them there were.
//
// scale > 1 enlarges each crop by that factor (Catmull-Rom) before it is
// written; scale ≤ 1 writes it as cut.
func WriteDataset(datasets, dir string, refs []Ref, margin, scale float64) (uncropped int, err error) {
	lfw := filepath.Join(datasets, "lfw")
	byID := make(map[string]Ref, len(refs))
	for _, r := range refs {
		byID[strings.TrimPrefix(r.ID, "lfw/")] = r
	}
	ents, err := os.ReadDir(lfw)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(lfw, e.Name()))
		if err != nil {
			return 0, err
		}
		for _, fe := range files {
			rel := e.Name() + "/" + fe.Name()
			ref, ok := byID[rel]
			if !ok {
				continue // only the images of pairs.txt have references
			}
			img, err := Load(datasets, ref)
			if err != nil {
				return 0, err
			}
			if err := writeJPEG(filepath.Join(dir, filepath.FromSlash(rel)), Scale(Crop(img, ref.Box, margin), scale)); err != nil {
				return 0, err
			}
			delete(byID, rel)
		}
	}
	// Pair images without a reference line stay whole.
	pairs, err := os.ReadFile(filepath.Join(lfw, "pairs.txt"))
	if err != nil {
		return 0, err
	}
	for _, name := range pairImages(string(pairs)) {
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := copyFile(filepath.Join(lfw, filepath.FromSlash(name)), dst); err != nil {
			return uncropped, err
		}
		uncropped++
	}
	return uncropped, os.WriteFile(filepath.Join(dir, "pairs.txt"), pairs, 0o644)
}

// pairImages lists the image paths (Name/Name_0001.jpg) pairs.txt uses.
func pairImages(pairs string) []string {
	var out []string
	img := func(name, num string) string {
		var n int
		fmt.Sscan(num, &n)
		return fmt.Sprintf("%s/%s_%04d.jpg", name, name, n)
	}
	for i, line := range strings.Split(pairs, "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0:
		case len(f) == 3:
			out = append(out, img(f[0], f[1]), img(f[0], f[2]))
		case len(f) == 4:
			out = append(out, img(f[0], f[1]), img(f[2], f[3]))
		}
	}
	return out
}

func writeJPEG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 95}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
