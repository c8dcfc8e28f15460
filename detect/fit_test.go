package detect

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r2"

	"github.com/facematch/facematch/internal/sharedtest"
)

// TestFitLandmarkCorrection refits landmarkCorrection on the even lines of
// lfw-5point.jsonl and prints the table (run with FACEMATCH_FIT_LANDMARKS=1).
func TestFitLandmarkCorrection(t *testing.T) {
	if os.Getenv("FACEMATCH_FIT_LANDMARKS") == "" {
		t.Skip("generator: set FACEMATCH_FIT_LANDMARKS=1 to refit the landmark correction")
	}
	d := detector(t)
	root := sharedtest.Path(t, "datasets")
	fh, err := os.Open(sharedtest.Path(t, "golden", "landmarks", "lfw-5point.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var refs []lfwRef
	sc := bufio.NewScanner(fh)
	for line := 0; sc.Scan(); line++ {
		if line%2 != 0 {
			continue
		}
		var r lfwRef
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	type sample struct {
		f   [nFeatures]float64
		tgt [5][2]float64 // residual ref - raw in the raw-eye frame
		ok  bool
	}
	samples := make([]sample, len(refs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := decodeFile(filepath.Join(root, refs[i].ID))
				if err != nil {
					continue
				}
				g, sx, sy := toGray(context.Background(), img, d.opts.MaxSide)
				if sx != 1 || sy != 1 || img.Bounds().Min != (image.Point{}) {
					continue
				}
				dets := d.windows(context.Background(), &g, 0, d.opts.MinScore)
				best := -1
				for j, w := range dets {
					if best < 0 || w.Scale > dets[best].Scale {
						best = j
					}
				}
				if best < 0 {
					continue
				}
				w := dets[best]
				row, col, s := float32(w.Row), float32(w.Col), float32(w.Scale)
				lm := d.cascadeLandmarks(&g, row, col, s)
				ref := refs[i].Points
				mid := r2.Vec{X: (ref[0][0] + ref[1][0]) / 2, Y: (ref[0][1] + ref[1][1]) / 2}
				if math.Abs(mid.X-float64(col)) > float64(s)/2 || math.Abs(mid.Y-float64(row)) > float64(s)/2 {
					continue // another face than the reference one
				}
				f, _, u, v, iod := frame(lm, row, col, s)
				if iod == 0 {
					continue
				}
				smp := sample{f: f, ok: true}
				for p := range 5 {
					dq := r2.Sub(r2.Vec{X: ref[p][0], Y: ref[p][1]}, lm[p])
					smp.tgt[p] = [2]float64{r2.Dot(dq, u) / iod, r2.Dot(dq, v) / iod}
				}
				samples[i] = smp
			}
		}()
	}
	for i := range refs {
		next <- i
	}
	close(next)
	wg.Wait()
	var use []sample
	for _, s := range samples {
		if s.ok {
			use = append(use, s)
		}
	}
	n := len(use)
	t.Logf("fitting on %d of %d images", n, len(refs))
	var table [5][nFeatures][2]float64
	for p := range 5 {
		w := make([]float64, n)
		for i := range w {
			w[i] = 1
		}
		var B mat.Dense
		for range 20 {
			X := mat.NewDense(n, nFeatures, nil)
			Y := mat.NewDense(n, 2, nil)
			for i, s := range use {
				sw := math.Sqrt(w[i])
				for j := range nFeatures {
					X.Set(i, j, s.f[j]*sw)
				}
				Y.Set(i, 0, s.tgt[p][0]*sw)
				Y.Set(i, 1, s.tgt[p][1]*sw)
			}
			B.Reset()
			if err := B.Solve(X, Y); err != nil {
				t.Fatal(err)
			}
			for i, s := range use {
				var rx, ry float64
				for j := range nFeatures {
					rx += s.f[j] * B.At(j, 0)
					ry += s.f[j] * B.At(j, 1)
				}
				w[i] = 1 / math.Max(math.Hypot(s.tgt[p][0]-rx, s.tgt[p][1]-ry), 0.01)
			}
		}
		for j := range nFeatures {
			table[p][j] = [2]float64{B.At(j, 0), B.At(j, 1)}
		}
	}
	var b strings.Builder
	b.WriteString("var landmarkCorrection = [5][nFeatures][2]float64{\n")
	for p := range 5 {
		b.WriteString("\t{")
		for j := range nFeatures {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{%.5f, %.5f}", table[p][j][0], table[p][j][1])
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	t.Log("\n" + b.String())
}
