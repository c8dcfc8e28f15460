package detect

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	pigo "github.com/esimov/pigo/core"

	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/weights"
)

// TestScanMatchesPigo: the own scan returns exactly pigo's RunCascade windows
// and scores, on real photos (the project's testdata) and on noise, over a
// spread of window ranges, steps and scale factors.
func TestScanMatchesPigo(t *testing.T) {
	p, err := pigo.NewPigo().Unpack(weights.FaceFinder())
	if err != nil {
		t.Fatal(err)
	}
	fc, err := parseFaceCascade(weights.FaceFinder())
	if err != nil {
		t.Fatal(err)
	}
	grays := map[string]grayImage{}
	for _, name := range []string{"astronaut.jpg", "hopper.jpg"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := imageio.Decode(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		grays[name], _, _ = toGray(context.Background(), img, 400)
	}
	rng := rand.New(rand.NewSource(7))
	noise := grayImage{W: 131, H: 97, Pix: make([]uint8, 131*97)}
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.Intn(256))
	}
	grays["noise"] = noise
	params := []struct {
		minSize, maxSize int
		shift, scale     float64
	}{
		{20, 1000, 0.1, 1.1},
		{33, 1000, 0.15, 1.2},
		{17, 60, 0.05, 1.03},
	}
	for name, g := range grays {
		found := 0
		for _, c := range params {
			maxSize := min(c.maxSize, min(g.W, g.H)-2)
			want := p.RunCascade(pigoParams(&g, c.minSize, maxSize, c.shift, c.scale), 0)
			got := fc.scan(context.Background(), &g, c.minSize, maxSize, c.shift, c.scale)
			if !slices.Equal(got, want) {
				t.Errorf("%s %+v: %d windows, pigo %d (or different scores)", name, c, len(got), len(want))
			}
			found += len(got)
		}
		if name != "noise" && found == 0 {
			t.Errorf("%s: no window scored above zero; the comparison proves nothing", name)
		}
	}
}

func TestParseFaceCascadeErrors(t *testing.T) {
	good := weights.FaceFinder()
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"long":      append(slices.Clone(good), 0),
		"depth 0":   append(append(slices.Clone(good[:8]), 0, 0, 0, 0), good[12:]...),
	} {
		if _, err := parseFaceCascade(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
