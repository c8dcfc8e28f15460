package detect

import (
	"image"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/internal/testfake"
)

// noiseRGBA is a w x h RGBA image of pseudo-random grey noise: no face, so
// Detect runs every stage (mirror, padding, quarter turns, rotations, ONet
// on weak windows).
func noiseRGBA(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	n := testfake.Noise{W: w, H: h}
	for y := range h {
		for x := range w {
			v := n.At(x, y).(interface{ RGBA() (r, g, b, a uint32) })
			r, _, _, _ := v.RGBA()
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = uint8(r>>8), uint8(r>>8), uint8(r>>8), 255
		}
	}
	return m
}

// detectPeak runs Detect on img and returns how far the live heap rose
// above its level before the call, at its highest, and the total bytes
// allocated. The heap is sampled every 100 µs with the collector running
// almost continuously (GOGC 1), so the figure is the live peak plus at most
// a little garbage: an over-estimate, as a bound test wants.
func detectPeak(t *testing.T, d *Detector, img image.Image) (peak, total uint64, faces int) {
	t.Helper()
	if _, err := d.Detect(img); err != nil { // warm the pools
		t.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	base := heap()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			if h := heap(); h > base {
				peak = max(peak, h-base)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fs, err := d.Detect(img)
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return peak, after.TotalAlloc - before.TotalAlloc, len(fs)
}

// TestDetectAllocBound: what Detect adds to the live heap per image stays
// within the detector's share of the service's memory estimate
// (imageio.DetectorBytes, charged per image on top of the decoded pixels,
// and its maximum imageio.DetectorCopyBytes), on the worst cases: faceless
// images, which take every stage, of working copies up to the largest
// (MaxSide 1024 on the long side), square, wide, tall and downscaled, and
// on a portrait.
func TestDetectAllocBound(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every detection stage on 1024-pixel images")
	}
	d := detector(t)
	cases := []struct {
		name string
		img  image.Image
	}{
		{"noise 1024x1024", noiseRGBA(1024, 1024)},
		{"noise 1024x576", noiseRGBA(1024, 576)},
		{"noise 300x1024", noiseRGBA(300, 1024)},
		{"noise 120x1024", noiseRGBA(120, 1024)},
		{"noise 1024x120", noiseRGBA(1024, 120)},
		{"noise 640x480", noiseRGBA(640, 480)},
		{"noise 200x200", noiseRGBA(200, 200)},
		{"noise 3000x3000 (downscaled)", noiseRGBA(3000, 3000)},
		{"noise 1024x1024 via At", testfake.Noise{W: 1024, H: 1024}},
		{"astronaut", fixture(t, "astronaut_eileen_collins.png")},
	}
	for _, c := range cases {
		b := c.img.Bounds()
		bound := imageio.DetectorBytes(b.Dx(), b.Dy())
		peak, total, faces := detectPeak(t, d, c.img)
		t.Logf("%s: %d faces, live heap peak +%.1f MiB (bound %.1f MiB), %.1f MiB allocated in all",
			c.name, faces, float64(peak)/(1<<20), float64(bound)/(1<<20), float64(total)/(1<<20))
		if int64(peak) > bound || int64(peak) > imageio.DetectorCopyBytes {
			t.Errorf("%s: Detect's live heap rose by %d bytes, over imageio.DetectorBytes = %d", c.name, peak, bound)
		}
	}
}
