package detect

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/lfwcrop"
	"github.com/facematch/facematch/internal/sharedtest"
)

// cropMargins are issue 9's crop margins around the reference face box.
var cropMargins = []float64{0.25, 0.10, 0, -0.10}

// TestLFWCrops reports, per crop margin, the share of LFW crops (see package
// lfwcrop) in which Detect finds no face and the mean time per crop. It reads
// the first FACEMATCH_LFW_CROPS reference images (every fourth of them, to
// spread over the identities; "all" for all 7698) and is skipped without it:
//
//	FACEMATCH_LFW_CROPS=2000 go test -run TestLFWCrops -v ./detect/
func TestLFWCrops(t *testing.T) {
	env := os.Getenv("FACEMATCH_LFW_CROPS")
	if env == "" {
		t.Skip("set FACEMATCH_LFW_CROPS=N (or all) to measure detection on LFW crops")
	}
	limit := 0
	if env != "all" {
		n, err := strconv.Atoi(env)
		if err != nil {
			t.Fatal(err)
		}
		limit = n
	}
	refs, err := lfwcrop.ReadRefs(sharedtest.Path(t, "golden", "landmarks", "lfw-5point.jsonl"), limit)
	if err != nil {
		t.Fatal(err)
	}
	if limit > 0 && len(refs) > limit/4 {
		sub := refs[:0]
		for i := 0; i < len(refs); i += 4 {
			sub = append(sub, refs[i])
		}
		refs = sub
	}
	datasets := sharedtest.Path(t, "datasets")
	d, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cropMargins {
		var noFace, turned int
		var mu sync.Mutex
		var failed []string
		var busy time.Duration
		jobs := make(chan lfwcrop.Ref)
		var wg sync.WaitGroup
		for range min(2, runtime.GOMAXPROCS(0)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range jobs {
					img, err := lfwcrop.Load(datasets, r)
					if err != nil {
						t.Error(err)
						continue
					}
					c := lfwcrop.Crop(img, r.Box, m)
					start := time.Now()
					faces, err := d.Detect(c)
					el := time.Since(start)
					mu.Lock()
					busy += el
					switch {
					case err != nil:
						t.Errorf("%s: %v", r.ID, err)
					case len(faces) == 0:
						noFace++
						failed = append(failed, filepath.Base(r.ID))
					case faces[0].Orientation != 0:
						turned++
					}
					mu.Unlock()
				}
			}()
		}
		for _, r := range refs {
			jobs <- r
		}
		close(jobs)
		wg.Wait()
		n := len(refs)
		fmt.Printf("margin %+4.0f%%: %d crops, no face %d (%.2f%%), turned %d, %.2f ms per crop; first failures %v\n",
			100*m, n, noFace, 100*float64(noFace)/float64(n), turned, float64(busy.Microseconds())/1000/float64(n), failed[:min(len(failed), 8)])
	}
}

// TestWriteLFWCrops writes the LFW crops of one margin as a dataset folder
// for bench/cmd/lfw (end-to-end accuracy on the crops). Skipped unless
// FACEMATCH_WRITE_CROPS=DIR:MARGIN or DIR:MARGIN:SCALE (each crop enlarged
// SCALE times), e.g.
//
//	FACEMATCH_WRITE_CROPS=/tmp/crops0:0 go test -run TestWriteLFWCrops ./detect/
//	go run ./bench/cmd/lfw --data /tmp/crops0
func TestWriteLFWCrops(t *testing.T) {
	env := os.Getenv("FACEMATCH_WRITE_CROPS")
	if env == "" {
		t.Skip("set FACEMATCH_WRITE_CROPS=DIR:MARGIN to write LFW crops")
	}
	dir, spec, ok := strings.Cut(env, ":")
	if !ok {
		t.Fatal("FACEMATCH_WRITE_CROPS wants DIR:MARGIN or DIR:MARGIN:SCALE")
	}
	ms, ss, _ := strings.Cut(spec, ":")
	m, err := strconv.ParseFloat(ms, 64)
	if err != nil {
		t.Fatal(err)
	}
	scale := 1.0
	if ss != "" {
		if scale, err = strconv.ParseFloat(ss, 64); err != nil {
			t.Fatal(err)
		}
	}
	refs, err := lfwcrop.ReadRefs(sharedtest.Path(t, "golden", "landmarks", "lfw-5point.jsonl"), 0)
	if err != nil {
		t.Fatal(err)
	}
	un, err := lfwcrop.WriteDataset(sharedtest.Path(t, "datasets"), dir, refs, m, scale)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d crops (margin %v, scale %v) to %s; %d pair images without a reference box copied whole", len(refs), m, scale, dir, un)
}
