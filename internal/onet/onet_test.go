package onet

import (
	"bufio"
	"encoding/json"
	"errors"
	"image"
	_ "image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/facematch/facematch/internal/sample"
	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/weights"
)

func newNet(t testing.TB) *Net {
	t.Helper()
	n, err := New(weights.ONet())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewRejectsBadModels(t *testing.T) {
	good := weights.ONet()
	cases := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("definitely not a flatbuffer"),
		"truncated": good[:len(good)/3],
		"header":    good[:64],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New(b); !errors.Is(err, ErrModel) {
				t.Fatalf("New(%s) error = %v, want ErrModel", name, err)
			}
		})
	}
}

// uniform images carry no face: the network must say so, and must give the
// same bits for the same input whatever the goroutine.
func TestDeterministicAcrossGoroutines(t *testing.T) {
	n := newNet(t)
	img := image.NewRGBA(image.Rect(0, 0, 100, 100))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 % 251)
	}
	want := n.Run(img, Box{X: 10, Y: 12, Size: 70})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if got := n.Run(img, Box{X: 10, Y: 12, Size: 70}); got != want {
					errs <- "result differs between runs"
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
	flat := image.NewGray(image.Rect(0, 0, 60, 60))
	if r := n.Run(flat, Box{Size: 60}); r.Face > 0.5 {
		t.Errorf("flat grey image: face probability %.3f, want < 0.5", r.Face)
	}
}

type reference struct {
	ID     string        `json:"id"`
	Box    [4]float64    `json:"box"`
	Points [5][2]float64 `json:"points"`
}

// TestLFWAgainstReference runs the network on boxes around the reference
// landmarks of LFW images and measures the normalised mean error (mean point
// error divided by the inter-ocular distance). Measured on the first 300
// images: mean NME 0.043, median 0.040, 3 of 300 above 0.1.
func TestLFWAgainstReference(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping LFW landmark measurement in -short mode")
	}
	jsonl := sharedtest.Path(t, "golden", "landmarks", "lfw-5point.jsonl")
	datasets := sharedtest.Path(t, "datasets")
	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := newNet(t)
	sc := bufio.NewScanner(f)
	var nme []float64
	var faces int
	for sc.Scan() && len(nme) < 300 {
		var ref reference
		if err := json.Unmarshal(sc.Bytes(), &ref); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(filepath.Join(datasets, ref.ID))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := max(ref.Box[2], ref.Box[3])
		box := Box{X: ref.Box[0] + ref.Box[2]/2 - s/2, Y: ref.Box[1] + ref.Box[3]/2 - s/2, Size: s}
		res := n.Run(img, box)
		if res.Face > 0.5 {
			faces++
		}
		iod := math.Hypot(ref.Points[0][0]-ref.Points[1][0], ref.Points[0][1]-ref.Points[1][1])
		var e float64
		for k, p := range ref.Points {
			e += math.Hypot(res.Landmarks[k].X-p[0], res.Landmarks[k].Y-p[1])
		}
		nme = append(nme, e/5/iod)
	}
	sort.Float64s(nme)
	var mean float64
	over := 0
	for _, e := range nme {
		mean += e
		if e > 0.1 {
			over++
		}
	}
	mean /= float64(len(nme))
	t.Logf("%d images: mean NME %.4f, median %.4f, %d above 0.1, face prob > 0.5 on %d", len(nme), mean, nme[len(nme)/2], over, faces)
	if mean > 0.05 || over > len(nme)/50 {
		t.Errorf("landmarks too far from the reference: mean NME %.4f, %d above 0.1", mean, over)
	}
	if faces < len(nme)*95/100 {
		t.Errorf("face probability > 0.5 on only %d of %d faces", faces, len(nme))
	}
}

// TestRotatedBox turns a photo a quarter turn and checks that a box turned
// with it gives the same landmarks, carried through the rotation: the
// sampling frame and the mapping back agree for non-zero angles.
func TestRotatedBox(t *testing.T) {
	fh, err := os.Open(filepath.Join("..", "..", "testdata", "astronaut.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(fh)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := newNet(t)
	box := Box{X: 133, Y: 47, Size: 81} // the detector's box for this face
	up := n.Run(img, box)
	if up.Face < 0.9 {
		t.Fatalf("upright face probability %.3f", up.Face)
	}
	// Rotate 90° clockwise: input pixel (x, y) lands at (H-1-y, x).
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rot := image.NewRGBA(image.Rect(0, 0, h, w))
	for y := range h {
		for x := range w {
			rot.Set(h-1-y, x, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	// The box's centre moves like a pixel centre; the crop turns by +90°.
	cx, cy := box.X+box.Size/2-0.5, box.Y+box.Size/2-0.5
	rcx, rcy := float64(h-1)-cy, cx
	rb := Box{X: rcx + 0.5 - box.Size/2, Y: rcy + 0.5 - box.Size/2, Size: box.Size, Angle: math.Pi / 2}
	got := n.Run(rot, rb)
	for k, p := range up.Landmarks {
		want := [2]float64{float64(h-1) - p.Y, p.X}
		if d := math.Hypot(got.Landmarks[k].X-want[0], got.Landmarks[k].Y-want[1]); d > 0.5 {
			t.Errorf("landmark %d: %v after rotation, want (%.2f, %.2f)", k, got.Landmarks[k], want[0], want[1])
		}
	}
	if math.Abs(float64(got.Face-up.Face)) > 0.01 {
		t.Errorf("face probability %.4f rotated, %.4f upright", got.Face, up.Face)
	}
}

// TestCropPatch: reading through the RGB patch gives the crop of the direct
// accessor to the bit, for upright and turned boxes inside, across and
// outside the image edges, on the decoder's image types.
func TestCropPatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(5, -3, 5+90, -3+70)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(rng.IntN(256))
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
	}
	rgba := image.NewRGBA(r)
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rng.IntN(256))
	}
	boxes := []Box{
		{X: 20, Y: 0, Size: 40},
		{X: 10.3, Y: -1.7, Size: 61.2, Angle: 0.3},
		{X: -20, Y: -30, Size: 80, Angle: -0.7},
		{X: 80, Y: 50, Size: 33, Angle: 2},
		{X: 300, Y: 300, Size: 20},
		{X: 30, Y: 10, Size: 7.5},
	}
	for _, img := range []image.Image{ycc, rgba} {
		for _, box := range boxes {
			for _, pad := range []Padding{PadBlack, PadEdge} {
				got := make([]float32, Input*Input*3)
				want := make([]float32, Input*Input*3)
				crop(img, box, pad, got)
				cropAt(&source{s: sample.New(img)}, box, pad, want)
				if !slices.Equal(got, want) {
					t.Errorf("%T %+v padding %d: patched crop differs", img, box, pad)
				}
			}
		}
	}
}

// TestPadEdge: PadEdge crops what PadBlack crops from the image with its
// edge pixels copied outward, for boxes inside, across and wholly outside
// the edges, upright and turned.
func TestPadEdge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const pad = 100
	r := image.Rect(-4, 7, -4+60, 7+45)
	img := image.NewRGBA(r)
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	big := image.NewRGBA(r.Inset(-pad))
	for y := big.Rect.Min.Y; y < big.Rect.Max.Y; y++ {
		for x := big.Rect.Min.X; x < big.Rect.Max.X; x++ {
			cx, cy := min(max(x, r.Min.X), r.Max.X-1), min(max(y, r.Min.Y), r.Max.Y-1)
			big.SetRGBA(x, y, img.RGBAAt(cx, cy))
		}
	}
	boxes := []Box{
		{X: 10, Y: 12, Size: 30},
		{X: -20, Y: 0, Size: 50},
		{X: 30, Y: 30, Size: 48, Angle: 0.4},
		{X: -30, Y: -20, Size: 120, Angle: -1.1},
		{X: 80, Y: 70, Size: 20},
	}
	for _, box := range boxes {
		got := make([]float32, Input*Input*3)
		want := make([]float32, Input*Input*3)
		crop(img, box, PadEdge, got)
		crop(big, box, PadBlack, want)
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Errorf("%+v: value %d is %v with PadEdge, %v on the padded image", box, i, got[i], want[i])
				break
			}
		}
		black := make([]float32, Input*Input*3)
		crop(img, box, PadBlack, black)
		if box.X < float64(r.Min.X) && slices.Equal(black, got) {
			t.Errorf("%+v: PadBlack and PadEdge crop the same across the edge", box)
		}
	}
}
