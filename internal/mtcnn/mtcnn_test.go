package mtcnn

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/sample"
	"github.com/facematch/facematch/internal/testfake"
	"github.com/facematch/facematch/internal/tflite"
	"github.com/facematch/facematch/weights"
)

var (
	detOnce sync.Once
	det     *Detector
	detErr  error
)

func detector(t testing.TB) *Detector {
	t.Helper()
	detOnce.Do(func() { det, detErr = New() })
	if detErr != nil {
		t.Fatal(detErr)
	}
	return det
}

func decode(t testing.TB, path string) image.Image {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func astronaut(t testing.TB) image.Image {
	return decode(t, filepath.Join("..", "..", "testdata", "astronaut.jpg"))
}

// astronautFace is the face box of testdata/astronaut.jpg that the onet
// tests use (the detector's box there).
var astronautFace = box{x0: 133, y0: 47, x1: 133 + 81, y1: 47 + 81}

func (p Proposal) box() box { return box{x0: p.X, y0: p.Y, x1: p.X + p.Size, y1: p.Y + p.Size} }

func TestProposeFindsTheFace(t *testing.T) {
	ps, err := detector(t).Propose(astronaut(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		t.Fatal("no proposal")
	}
	top := ps[0].box()
	if v := iou(&top, &astronautFace); v < 0.5 || ps[0].Prob < 0.95 {
		t.Errorf("top proposal %+v: IoU %.2f with the face, probability %.3f", ps[0], v, ps[0].Prob)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Prob > ps[i-1].Prob {
			t.Errorf("proposals not sorted by probability: %v", ps)
		}
		for k := range i {
			a, b := ps[i].box(), ps[k].box()
			if iou(&a, &b) > 0.7 {
				t.Errorf("proposals %d and %d overlap at IoU %.2f", k, i, iou(&a, &b))
			}
		}
	}
}

// TestProposeFacesCutByTheFrame crops the astronaut so that part of the
// face is outside the image. With a third of it outside, the face is
// proposed either way; with two thirds outside, only windows hanging over
// the edge (Overhang) find it, the box reaching past the edge.
func TestProposeFacesCutByTheFrame(t *testing.T) {
	img := astronaut(t)
	for _, c := range []struct {
		left     int // image column at the crop's left edge
		overhang float64
		want     bool
		iou      float64
	}{
		{left: 160, overhang: 0, want: true, iou: 0.4},
		{left: 160, overhang: 0.25, want: true, iou: 0.4},
		{left: 185, overhang: 0, want: false, iou: 0.3},
		{left: 185, overhang: 0.25, want: true, iou: 0.3},
	} {
		cut := image.NewRGBA(image.Rect(0, 0, 220, 260))
		draw.Draw(cut, cut.Bounds(), img, image.Pt(c.left, 0), draw.Src)
		face := astronautFace
		face.x0, face.x1 = face.x0-float64(c.left), face.x1-float64(c.left)
		ps, err := detector(t).Propose(cut, &Options{Overhang: c.overhang})
		if err != nil {
			t.Fatal(err)
		}
		best := 0.0
		for _, p := range ps {
			b := p.box()
			best = max(best, iou(&b, &face))
		}
		if (best >= c.iou) != c.want {
			t.Errorf("face cut at column %d, overhang %v: best IoU %.2f (want >= %.1f: %v) among %v", c.left, c.overhang, best, c.iou, c.want, ps)
		}
	}
}

func TestProposeNothingOnFlatImages(t *testing.T) {
	for _, c := range []color.Color{color.Gray{Y: 128}, color.Black, color.White} {
		img := image.NewRGBA(image.Rect(0, 0, 300, 200))
		draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		ps, err := detector(t).Propose(img, &Options{Overhang: 0.25})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 0 {
			t.Errorf("flat %v image: %d proposals %v", c, len(ps), ps)
		}
	}
}

func TestProposeDeterministicAcrossGoroutines(t *testing.T) {
	d := detector(t)
	img := astronaut(t)
	want, err := d.Propose(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				got, err := d.Propose(img, nil)
				if err != nil || !slices.Equal(got, want) {
					errs <- "proposals differ between calls"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestProposeImageOrigin: an image whose bounds do not start at (0, 0)
// gives the same boxes, moved with it.
func TestProposeImageOrigin(t *testing.T) {
	img := astronaut(t)
	moved := image.NewRGBA(img.Bounds().Add(image.Pt(-37, 51)))
	draw.Draw(moved, moved.Bounds(), img, img.Bounds().Min, draw.Src)
	plain := image.NewRGBA(img.Bounds())
	draw.Draw(plain, plain.Bounds(), img, img.Bounds().Min, draw.Src)
	d := detector(t)
	a, err := d.Propose(plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Propose(moved, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d proposals, %d moved", len(a), len(b))
	}
	for i := range a {
		if math.Abs(b[i].X+37-a[i].X) > 1e-9 || math.Abs(b[i].Y-51-a[i].Y) > 1e-9 || b[i].Size != a[i].Size || b[i].Prob != a[i].Prob {
			t.Errorf("proposal %d: %+v, moved %+v", i, a[i], b[i])
		}
	}
}

func TestProposeErrors(t *testing.T) {
	d := detector(t)
	img := image.NewGray(image.Rect(0, 0, 50, 50))
	if _, err := d.Propose(nil, nil); !errors.Is(err, ErrImage) {
		t.Errorf("nil image: %v", err)
	}
	if _, err := d.Propose(image.NewGray(image.Rect(3, 3, 3, 9)), nil); !errors.Is(err, ErrImage) {
		t.Errorf("empty image: %v", err)
	}
	for _, o := range []Options{
		{MinFaceSize: 11}, {MinFaceSize: math.NaN()}, {MinFaceSize: math.Inf(1)},
		{ScaleFactor: 0.99}, {ScaleFactor: -1}, {PNetThreshold: 1}, {RNetThreshold: -0.5},
		{Overhang: 0.6}, {Overhang: math.NaN()}, {MaxCandidates: -1}, {MaxLevelPixels: 100},
	} {
		if _, err := d.Propose(img, &o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	// Images too small for a window give nothing, without error.
	for _, r := range []image.Rectangle{image.Rect(0, 0, 1, 1), image.Rect(0, 0, 11, 400)} {
		if ps, err := d.Propose(image.NewGray(r), nil); err != nil || len(ps) != 0 {
			t.Errorf("%v: %v, %v", r, ps, err)
		}
	}
}

func TestNewFromModelsRejects(t *testing.T) {
	p, r := weights.PNet(), weights.RNet()
	for name, c := range map[string][2][]byte{
		"garbage P-Net":   {[]byte("not a model"), r},
		"garbage R-Net":   {p, nil},
		"truncated":       {p[:len(p)/2], r},
		"swapped":         {r, p},
		"ONet as R-Net":   {p, weights.ONet()},
		"R-Net as P-Net":  {r, r},
		"P-Net as R-Net ": {p, p},
	} {
		if _, err := NewFromModels(c[0], c[1]); !errors.Is(err, ErrModel) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTilesMatchWholeLevel: P-Net run tile by tile gives the windows, and
// probabilities, of P-Net compiled for the whole level.
func TestTilesMatchWholeLevel(t *testing.T) {
	d := detector(t)
	src := sample.New(astronaut(t))
	lv := pyramid(context.Background(), src, [][2]int{{131, 117}})[0]
	g, err := tflite.Load(weights.PNet())
	if err != nil {
		t.Fatal(err)
	}
	// The whole level, transposed, as one input.
	g.Input = nn.Shape{C: 3, H: lv.w, W: lv.h}
	net, err := nn.Compile(g, &nn.CompileOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, lv.w*lv.h*3)
	fillTile2(in, &lv)
	outs := net.Outputs()
	dst := [][]float32{make([]float32, outs[0].Len()), make([]float32, outs[1].Len())}
	if err := net.RunHWC(dst, in); err != nil {
		t.Fatal(err)
	}
	const thresh = 0.3
	var want []box
	ow := outs[0].W
	for i := range outs[0].H {
		for j := range ow {
			k := i*ow + j
			if p := dst[0][2*k+1]; p >= thresh {
				want = append(want, box{x0: float64(2 * i), y0: float64(2 * j), score: p})
			}
		}
	}
	got, err := d.scanLevel(context.Background(), &lv, 0, thresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d windows from tiles, %d from the whole level", len(got), len(want))
	}
	byPos := func(b []box) {
		slices.SortFunc(b, func(p, q box) int {
			if p.x0 != q.x0 {
				return int(p.x0 - q.x0)
			}
			return int(p.y0 - q.y0)
		})
	}
	byPos(got)
	byPos(want)
	for i := range got {
		if got[i].x0 != want[i].x0 || got[i].y0 != want[i].y0 || math.Abs(float64(got[i].score-want[i].score)) > 1e-5 {
			t.Fatalf("window %d: tiles %+v, whole level %+v", i, got[i], want[i])
		}
	}
}

// fillTile2 writes the whole level transposed and normalised.
func fillTile2(dst []float32, l *level) {
	for x := range l.w {
		for y := range l.h {
			for c := range 3 {
				dst[(x*l.h+y)*3+c] = (l.pix[(y*l.w+x)*3+c] - 127.5) * 0.0078125
			}
		}
	}
}

func TestResampleIsAnAreaAverage(t *testing.T) {
	// 4x2 → 2x1: each output averages a 2x2 block.
	src := []float32{
		0, 0, 0, 4, 4, 4, 8, 8, 8, 12, 12, 12,
		2, 2, 2, 6, 6, 6, 10, 10, 10, 14, 14, 14,
	}
	got := resample(4, 2, 2, 1, func(y int) []float32 { return src[y*12 : (y+1)*12] })
	if want := []float32{3, 3, 3, 11, 11, 11}; !slices.Equal(got, want) {
		t.Errorf("2x2 blocks: %v, want %v", got, want)
	}
	// 3 → 2 along x: outputs cover [0, 1.5) and [1.5, 3).
	row := []float32{0, 0, 0, 3, 3, 3, 6, 6, 6}
	got = resample(3, 1, 2, 1, func(int) []float32 { return row })
	if want := []float32{1, 1, 1, 5, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("3 → 2: %v, want %v", got, want)
	}
	// A uniform image stays uniform at any size.
	uni := make([]float32, 3*37)
	for i := range uni {
		uni[i] = 200
	}
	for _, m := range [][2]int{{37, 29}, {26, 21}, {5, 3}, {1, 1}} {
		for i, v := range resample(37, 29, m[0], m[1], func(int) []float32 { return uni }) {
			if math.Abs(float64(v)-200) > 1e-3 {
				t.Fatalf("%v: value %d = %v", m, i, v)
			}
		}
	}
}

func TestScales(t *testing.T) {
	o, err := (&Options{}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := scales(640, 480, &o)
	if s[0] != [2]int{384, 288} {
		t.Errorf("first level %v, want 384x288 (12/20 of 640x480)", s[0])
	}
	last := s[len(s)-1]
	if min(last[0], last[1]) < 12 {
		t.Errorf("last level %v smaller than a window", last)
	}
	o.MaxLevelPixels = 10000
	if s := scales(4000, 3000, &o); s[0][0]*s[0][1] > 10000+s[0][0]+s[0][1]+1 { // ceil rounding
		t.Errorf("first level %v exceeds MaxLevelPixels", s[0])
	}
	o.Overhang = 0.25
	if s := scales(10, 10, &o); len(s) == 0 {
		t.Errorf("a 10x10 image with overhang has no level")
	}
}

func TestNMS(t *testing.T) {
	boxes := []box{
		{x0: 0, y0: 0, x1: 10, y1: 10, score: 0.8},
		{x0: 1, y0: 1, x1: 11, y1: 11, score: 0.9}, // IoU 81/119 = 0.68 with the first
		{x0: 50, y0: 50, x1: 60, y1: 60, score: 0.5},
		{x0: 0, y0: 0, x1: 10, y1: 10, score: 0.8}, // duplicate of the first
	}
	got := nms(slices.Clone(boxes), 0.5)
	if len(got) != 2 || got[0].score != 0.9 || got[1].score != 0.5 {
		t.Errorf("IoU 0.5: %+v", got)
	}
	got = nms(slices.Clone(boxes), 0.7)
	if len(got) != 3 || got[1].score != 0.8 {
		t.Errorf("IoU 0.7: %+v", got)
	}
	a, b := box{x0: 0, y0: 0, x1: 2, y1: 2}, box{x0: 1, y0: 0, x1: 3, y1: 2}
	if v := iou(&a, &b); math.Abs(v-1.0/3) > 1e-12 {
		t.Errorf("IoU %v, want 1/3", v)
	}
	if sq := square(box{x0: 0, y0: 0, x1: 4, y1: 10}); sq != (box{x0: -3, y0: 0, x1: 7, y1: 10}) {
		t.Errorf("square %+v", sq)
	}
}

// TestProposeContext: a live context gives Propose's proposals; one that
// ends at any look stops with context.Canceled and no proposals.
func TestProposeContext(t *testing.T) {
	d := detector(t)
	img := astronaut(t)
	want, err := d.Propose(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	full := testfake.NewCountdown(1 << 30)
	got, err := d.ProposeContext(full, img, nil)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("live context: %v, %v; want Propose's %v", got, err, want)
	}
	if full.Looks < 10 {
		t.Fatalf("ProposeContext looked at the context %d times", full.Looks)
	}
	for _, n := range []int{0, 1, full.Looks / 2, full.Looks - 1} {
		ps, err := d.ProposeContext(testfake.NewCountdown(n), img, nil)
		if !errors.Is(err, context.Canceled) || ps != nil {
			t.Errorf("context ending after %d of %d looks: %v, %v; want nil, Canceled", n, full.Looks, ps, err)
		}
	}
}
