package embed

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/facematch/facematch/weights"
)

// testImage returns a deterministic 112x112 image: smooth gradients plus
// seeded noise, different for each seed.
func testImage(seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, InputSize, InputSize))
	r := rand.New(rand.NewPCG(seed, 99))
	for y := 0; y < InputSize; y++ {
		for x := 0; x < InputSize; x++ {
			o := img.PixOffset(x, y)
			img.Pix[o] = uint8((x*2 + int(seed)*37 + r.IntN(40)) % 256)
			img.Pix[o+1] = uint8((y*2 + r.IntN(40)) % 256)
			img.Pix[o+2] = uint8((x + y + r.IntN(40)) % 256)
			img.Pix[o+3] = 255
		}
	}
	return img
}

var (
	sharedOnce sync.Once
	sharedEmb  *Embedder
	sharedErr  error
)

// shared returns one Embedder (flip on, 4 workers) for the tests below.
func shared(t testing.TB) *Embedder {
	t.Helper()
	sharedOnce.Do(func() { sharedEmb, sharedErr = New(&Options{Workers: 4}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedEmb
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func TestEmbedNormalised(t *testing.T) {
	e := shared(t)
	v, err := e.Embed(testImage(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != Dim {
		t.Fatalf("%d values", len(v))
	}
	if n := norm(v); math.Abs(n-1) > 1e-5 {
		t.Errorf("norm %v", n)
	}
	raw, err := e.raw(testImage(1), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := norm(raw); n < 1 || n > 1000 {
		t.Errorf("raw norm %v outside the plausible range", n)
	}
}

func TestInputSize(t *testing.T) {
	e := shared(t)
	for _, r := range []image.Rectangle{
		image.Rect(0, 0, 111, 112), image.Rect(0, 0, 112, 113), image.Rect(0, 0, 0, 0), image.Rect(0, 0, 224, 224),
	} {
		_, err := e.Embed(image.NewRGBA(r))
		if !errors.Is(err, ErrInputSize) {
			t.Errorf("%v: error %v, want ErrInputSize", r, err)
		}
		if _, err := e.raw(image.NewRGBA(r), true); !errors.Is(err, ErrInputSize) {
			t.Errorf("Raw %v: error %v, want ErrInputSize", r, err)
		}
	}
	if _, err := e.Embed(nil); !errors.Is(err, ErrInputSize) {
		t.Errorf("nil image: %v", err)
	}
	if err := e.EmbedInto(make([]float32, Dim-1), testImage(1)); !errors.Is(err, ErrShortBuffer) {
		t.Error("EmbedInto accepted a short destination")
	}
}

// TestImageTypes checks that every image representation of the same pixels
// gives the same embedding, including a non-zero origin.
func TestImageTypes(t *testing.T) {
	e := shared(t)
	src := testImage(3)
	want, err := e.Embed(src)
	if err != nil {
		t.Fatal(err)
	}
	nrgba := image.NewNRGBA(src.Bounds())
	draw.Draw(nrgba, nrgba.Bounds(), src, image.Point{}, draw.Src)
	offset := image.NewRGBA(image.Rect(10, 20, 10+InputSize, 20+InputSize))
	draw.Draw(offset, offset.Bounds(), src, image.Point{}, draw.Src)
	big := image.NewRGBA(image.Rect(0, 0, 200, 200))
	draw.Draw(big, image.Rect(30, 40, 30+InputSize, 40+InputSize), src, image.Point{}, draw.Src)
	sub := big.SubImage(image.Rect(30, 40, 30+InputSize, 40+InputSize))
	rgba64 := image.NewRGBA64(src.Bounds())
	draw.Draw(rgba64, rgba64.Bounds(), src, image.Point{}, draw.Src)
	for name, img := range map[string]image.Image{"NRGBA": nrgba, "offset RGBA": offset, "SubImage": sub, "RGBA64": rgba64} {
		got, err := e.Embed(img)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: embedding differs from the RGBA one", name)
		}
	}
	// A grey image goes through the generic path and must equal RGB grey.
	gray := image.NewGray(src.Bounds())
	rgbGray := image.NewRGBA(src.Bounds())
	for i := range gray.Pix {
		v := uint8(i * 7)
		gray.Pix[i] = v
		rgbGray.SetRGBA(i%InputSize, i/InputSize, color.RGBA{v, v, v, 255})
	}
	a, err := e.Embed(gray)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Embed(rgbGray)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Error("Gray and RGBA grey embeddings differ")
	}
}

// TestFlip checks the mirror handling: the flip-TTA embedding of an image and
// of its mirror are the same vector up to the order of the two additions
// (bit-identical, since float addition is commutative), and the raw output of
// the mirror equals Raw(img, true).
func TestFlip(t *testing.T) {
	e := shared(t)
	img := testImage(5)
	mir := image.NewRGBA(img.Bounds())
	for y := 0; y < InputSize; y++ {
		for x := 0; x < InputSize; x++ {
			mir.SetRGBA(InputSize-1-x, y, img.RGBAAt(x, y))
		}
	}
	a, err := e.Embed(img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Embed(mir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Error("flip-TTA embeddings of an image and its mirror differ")
	}
	r1, err := e.raw(img, true)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.raw(mir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r1, r2) {
		t.Error("Raw(img, mirror) differs from Raw(mirror image)")
	}
	r0, err := e.raw(img, false)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(r0, r1) {
		t.Error("mirroring had no effect")
	}
}

// TestConcurrentDeterministic embeds several images from many goroutines at
// once and requires bit-identical results to a sequential run.
func TestConcurrentDeterministic(t *testing.T) {
	goroutines, perG, images := 8, 3, 4
	if testing.Short() {
		goroutines, perG, images = 4, 1, 2
	}
	e, err := New(&Options{Workers: 3, DisableFlip: true})
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]image.Image, images)
	want := make([][]float32, images)
	for i := range imgs {
		imgs[i] = testImage(uint64(10 + i))
		if want[i], err = e.Embed(imgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	// A second Embedder (its own graphs) must agree too.
	e2, err := New(&Options{Workers: 1, DisableFlip: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e2.Embed(imgs[0]); err != nil || !slices.Equal(got, want[0]) {
		t.Fatalf("second Embedder: %v, equal %v", err, slices.Equal(got, want[0]))
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG*images)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range perG {
				for k := range images {
					i := (g + r + k) % images
					got, err := e.Embed(imgs[i])
					if err != nil {
						errs <- err
						return
					}
					if !slices.Equal(got, want[i]) {
						errs <- fmt.Errorf("goroutine %d: image %d differs from the sequential result", g, i)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRepeatedRuns guards against the tape machine returning a stale output:
// alternating inputs must alternate outputs.
func TestRepeatedRuns(t *testing.T) {
	e, err := New(&Options{Workers: 1, DisableFlip: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := testImage(20), testImage(21)
	va, _ := e.Embed(a)
	vb, _ := e.Embed(b)
	va2, _ := e.Embed(a)
	if slices.Equal(va, vb) {
		t.Fatal("two different images gave the same embedding")
	}
	if !slices.Equal(va, va2) {
		t.Fatal("same image gave different embeddings")
	}
}

// TestCorruptModel feeds truncated and damaged model bytes to NewFromModel:
// it must return ErrModel (or, when only weight values were hit, a working
// Embedder) and never panic.
func TestCorruptModel(t *testing.T) {
	full := weights.MobileFaceNet()
	for _, n := range []int{0, 3, 8, 100, 4096, len(full) / 2, len(full) - 1000} {
		_, err := NewFromModel(full[:n:n], &Options{Workers: 1})
		if !errors.Is(err, ErrModel) {
			t.Errorf("%d bytes: error %v, want ErrModel", n, err)
		}
	}
	if _, err := NewFromModel([]byte("definitely not a model at all"), nil); !errors.Is(err, ErrModel) {
		t.Errorf("garbage: %v", err)
	}
	if _, err := NewFromModel(weights.ONet(), nil); !errors.Is(err, ErrModel) {
		t.Errorf("ONet (wrong network): %v", err)
	}
	r := rand.New(rand.NewPCG(5, 5))
	n := 40
	if testing.Short() {
		n = 10
	}
	buf := make([]byte, len(full))
	for range n {
		copy(buf, full)
		for range 1 + r.IntN(4) {
			off := r.IntN(8192)
			if r.IntN(2) == 0 {
				off = len(buf) - 1 - r.IntN(64<<10)
			}
			buf[off] = byte(r.Uint32())
		}
		e, err := NewFromModel(buf, &Options{Workers: 1, DisableFlip: true})
		if err != nil {
			if !errors.Is(err, ErrModel) {
				t.Fatalf("error %v does not wrap ErrModel", err)
			}
			continue
		}
		if _, err := e.Embed(testImage(1)); err != nil && !errors.Is(err, ErrInternal) {
			t.Fatalf("Embed on a damaged model: %v", err)
		}
	}
}
