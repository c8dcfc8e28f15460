package facematch

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// hugeImage reports enormous bounds and would take forever to scan.
type hugeImage struct{ side int }

func (h hugeImage) ColorModel() color.Model { return color.GrayModel }
func (h hugeImage) Bounds() image.Rectangle { return image.Rect(0, 0, h.side, h.side) }
func (h hugeImage) At(x, y int) color.Color { return color.Gray{} }

func TestImageSourceBounded(t *testing.T) {
	m := newTestMatcher(t)
	for _, side := range []int{1 << 30, 20000, 30001} {
		start := time.Now()
		_, err := m.Compare(context.Background(), Image(hugeImage{side}), Image(hugeImage{side}), nil)
		if !errors.Is(err, ErrImageTooLarge) {
			t.Errorf("%d x %d image.Image: err %v, want ErrImageTooLarge", side, side, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%d x %d image.Image: refused after %v", side, side, d)
		}
	}
}

func TestSharedReaderDetected(t *testing.T) {
	m := newTestMatcher(t)
	r := bytes.NewReader(grayPNG(t, 64, 64))
	_, err := m.Compare(context.Background(), Reader(r), Reader(r), nil)
	if !errors.Is(err, ErrSharedReader) {
		t.Fatalf("err %v, want ErrSharedReader", err)
	}
	var ie *ImageError
	if !errors.As(err, &ie) || ie.Image != 2 {
		t.Fatalf("err %v, want an ImageError about image 2", err)
	}
	if int64(r.Len()) != r.Size() {
		t.Fatal("the shared reader was read")
	}
	// Two distinct readers are not confused with one.
	if sharedReader(Reader(bytes.NewReader(nil)), Reader(bytes.NewReader(nil))) {
		t.Fatal("two readers reported as shared")
	}
	// An incomparable io.Reader type must not panic.
	if sharedReader(Reader(sliceReader{}), Reader(sliceReader{})) {
		t.Fatal("incomparable readers reported as shared")
	}
}

func TestURLSourceStringRedacted(t *testing.T) {
	s := URL("https://user:pw@bucket.example/a/b.jpg?X-Amz-Signature=abc#f").String()
	if s != "https://bucket.example/a/b.jpg" || strings.Contains(s, "Signature") {
		t.Fatalf("String() = %q", s)
	}
}

func TestStageObserverAndFetchDecodeCost(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	m, err := New(&Options{StageObserver: func(stage string, d time.Duration) {
		mu.Lock()
		seen[stage]++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	png := grayPNG(t, 64, 64)
	if _, _, err := m.Detect(context.Background(), Bytes(png)); err != nil {
		t.Fatal(err)
	}
	if seen[StageDecode] != 1 || seen[StageDetect] != 1 {
		t.Fatalf("stages seen %v", seen)
	}
	c, err := m.DecodeCost(png)
	if err != nil || c < 64*64 {
		t.Fatalf("DecodeCost = %d, %v", c, err)
	}
	if _, err := m.DecodeCost(bombPNG(50000, 50000)); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("bomb: %v", err)
	}
	if _, err := m.Fetch(context.Background(), "http://127.0.0.1:1/x.jpg"); !errors.Is(err, ErrForbiddenURL) {
		t.Fatalf("Fetch loopback: %v", err)
	}
}

// sliceReader is an io.Reader of an incomparable type.
type sliceReader []byte

func (sliceReader) Read([]byte) (int, error) { return 0, io.EOF }
