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

	"github.com/facematch/facematch/internal/gemm"
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
	raw, err := e.Raw(testImage(1), false)
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
		if _, err := e.Raw(image.NewRGBA(r), true); !errors.Is(err, ErrInputSize) {
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
	r1, err := e.Raw(img, true)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.Raw(mir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r1, r2) {
		t.Error("Raw(img, mirror) differs from Raw(mirror image)")
	}
	r0, err := e.Raw(img, false)
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
	if e.created > 3 {
		t.Errorf("%d workers built, limit 3", e.created)
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

func TestSamePad(t *testing.T) {
	for _, c := range []struct{ in, k, s, out, before int }{
		{112, 3, 2, 56, 0}, {56, 3, 1, 56, 1}, {56, 3, 2, 28, 0}, {7, 3, 2, 4, 1}, {5, 1, 1, 5, 0},
	} {
		out, before := samePad(c.in, c.k, c.s, 1)
		if out != c.out || before != c.before {
			t.Errorf("samePad(%d, k%d, s%d) = %d, %d; want %d, %d", c.in, c.k, c.s, out, before, c.out, c.before)
		}
	}
}

// TestDepthwise compares the depthwise layer with a direct float64
// computation for assorted geometries (odd channel counts, strides,
// dilation, SAME and VALID padding), with and without assembly.
func TestDepthwise(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	type geo struct {
		h, w, c, k, s, d int
		same             bool
	}
	for _, g := range []geo{
		{9, 7, 5, 3, 2, 1, true}, {8, 8, 16, 3, 2, 1, true}, {6, 5, 12, 3, 1, 2, true},
		{7, 7, 24, 7, 1, 1, false}, {10, 6, 8, 3, 1, 1, true}, {5, 9, 3, 1, 1, 1, false},
	} {
		in := shape3{g.h, g.w, g.c}
		var oh, ow, pt, pl int
		if g.same {
			oh, pt = samePad(g.h, g.k, g.s, g.d)
			ow, pl = samePad(g.w, g.k, g.s, g.d)
		} else {
			oh, ow = validOut(g.h, g.k, g.s, g.d), validOut(g.w, g.k, g.s, g.d)
		}
		x := make([]float32, in.size())
		w := make([]float32, g.k*g.k*g.c)
		bias := make([]float32, g.c)
		alpha := make([]float32, g.c)
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
		for i := range w {
			w[i] = r.Float32()*2 - 1
		}
		for i := range bias {
			bias[i], alpha[i] = r.Float32()-0.5, r.Float32()
		}
		act := activation{kind: actPReLU, alpha: alpha}
		l := &dwLayer{in: in, out: shape3{oh, ow, g.c}, kh: g.k, kw: g.k, sh: g.s, sw: g.s, dh: g.d, dw: g.d,
			padT: pt, padL: pl, w: w, act: act, ep: newEpilogue(bias, act, g.c)}
		for _, asm := range []bool{true, false} {
			restore := gemm.SetAsm(asm)
			out := make([]float32, l.out.size())
			l.run(&workspace{}, [][]float32{x}, out)
			restore()
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					for c := 0; c < g.c; c++ {
						ref := float64(bias[c])
						for ky := 0; ky < g.k; ky++ {
							for kx := 0; kx < g.k; kx++ {
								iy, ix := oy*g.s-pt+ky*g.d, ox*g.s-pl+kx*g.d
								if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
									ref += float64(x[(iy*g.w+ix)*g.c+c]) * float64(w[(ky*g.k+kx)*g.c+c])
								}
							}
						}
						if ref < 0 {
							ref *= float64(alpha[c])
						}
						if got := out[(oy*ow+ox)*g.c+c]; math.Abs(float64(got)-ref) > 1e-5 {
							t.Fatalf("%+v asm=%v: out[%d][%d][%d] = %v, want %v", g, asm, oy, ox, c, got, ref)
						}
					}
				}
			}
		}
	}
}

// TestConv compares the convolution layer (im2col and direct paths) with a
// direct float64 computation.
func TestConv(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	type geo struct {
		h, w, ci, co, k, s, d int
		same                  bool
	}
	for _, g := range []geo{
		{9, 7, 3, 20, 3, 2, 1, true}, {6, 6, 5, 16, 1, 1, 1, true}, {8, 5, 4, 7, 3, 1, 2, true},
		{7, 7, 6, 9, 7, 1, 1, false}, {5, 5, 8, 33, 2, 2, 1, false},
	} {
		in := shape3{g.h, g.w, g.ci}
		var oh, ow, pt, pl int
		if g.same {
			oh, pt = samePad(g.h, g.k, g.s, g.d)
			ow, pl = samePad(g.w, g.k, g.s, g.d)
		} else {
			oh, ow = validOut(g.h, g.k, g.s, g.d), validOut(g.w, g.k, g.s, g.d)
		}
		k := g.k * g.k * g.ci
		x := make([]float32, in.size())
		w := make([]float32, g.co*k)
		bias := make([]float32, g.co)
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
		for i := range w {
			w[i] = r.Float32()*2 - 1
		}
		for i := range bias {
			bias[i] = r.Float32() - 0.5
		}
		act := activation{kind: actRelu6}
		l := &convLayer{in: in, out: shape3{oh, ow, g.co}, kh: g.k, kw: g.k, sh: g.s, sw: g.s, dh: g.d, dw: g.d,
			padT: pt, padL: pl, k: k, bp: gemm.PackB(w, g.co, k), act: act, ep: newEpilogue(bias, act, g.co)}
		l.direct = g.k == 1 && g.s == 1
		out := make([]float32, l.out.size())
		l.run(&workspace{}, [][]float32{x}, out)
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for o := 0; o < g.co; o++ {
					ref := float64(bias[o])
					for ky := 0; ky < g.k; ky++ {
						for kx := 0; kx < g.k; kx++ {
							iy, ix := oy*g.s-pt+ky*g.d, ox*g.s-pl+kx*g.d
							if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
								continue
							}
							for c := 0; c < g.ci; c++ {
								ref += float64(x[(iy*g.w+ix)*g.ci+c]) * float64(w[o*k+(ky*g.k+kx)*g.ci+c])
							}
						}
					}
					ref = math.Min(math.Max(ref, 0), 6)
					if got := out[(oy*ow+ox)*g.co+o]; math.Abs(float64(got)-ref) > 1e-4 {
						t.Fatalf("%+v: out[%d][%d][%d] = %v, want %v", g, oy, ox, o, got, ref)
					}
				}
			}
		}
	}
}
