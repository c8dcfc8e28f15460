package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"gonum.org/v1/gonum/spatial/r2"

	"github.com/facematch/facematch/internal/sharedtest"
)

// lfwRef is one line of golden/landmarks/lfw-5point.jsonl.
type lfwRef struct {
	ID     string        `json:"id"`
	Box    [4]float64    `json:"box"`
	Points [5][2]float64 `json:"points"`
}

// lfwStats accumulates landmark errors normalised by the reference
// inter-ocular distance.
type lfwStats struct {
	n, noFace, wrongFace int
	sum                  [5]float64
	mean                 float64
	over01               int
	bias                 [5]r2.Vec // mean signed error in the eye-aligned frame, / IOD
	failed               []string  // images without a face at the reference position
}

func (s *lfwStats) String() string {
	n := float64(s.n)
	names := [5]string{"left eye", "right eye", "nose", "left mouth", "right mouth"}
	out := fmt.Sprintf("LFW images %d, no face %d, other face chosen %d\n", s.n+s.noFace+s.wrongFace, s.noFace, s.wrongFace)
	for i, nm := range names {
		out += fmt.Sprintf("  %-11s NME %.4f  bias (%.4f, %.4f)\n", nm, s.sum[i]/n, s.bias[i].X/n, s.bias[i].Y/n)
	}
	out += fmt.Sprintf("  overall NME %.4f, share > 0.1: %.2f%% (%d)\n", s.mean/n, 100*float64(s.over01)/n, s.over01)
	if k := min(len(s.failed), 10); k > 0 {
		out += fmt.Sprintf("  failures include %v\n", s.failed[:k])
	}
	return out
}

// measureLFW runs d on every reference image (limit > 0: the first limit) and
// compares the landmarks of the largest face (what the pipeline uses) with
// the reference.
func measureLFW(t testing.TB, d *Detector, limit int) (even, odd *lfwStats) {
	root := sharedtest.Path(t, "datasets")
	f, err := os.Open(sharedtest.Path(t, "golden", "landmarks", "lfw-5point.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs []lfwRef
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r lfwRef
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
		if limit > 0 && len(refs) == limit {
			break
		}
	}
	type result struct {
		face *Face
		err  error
	}
	res := make([]result, len(refs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := decodeFile(filepath.Join(root, refs[i].ID))
				if err != nil {
					res[i].err = err
					continue
				}
				faces, err := d.Detect(img)
				if err != nil {
					res[i].err = err
					continue
				}
				if len(faces) > 0 {
					res[i].face = &faces[0]
				}
			}
		}()
	}
	for i := range refs {
		next <- i
	}
	close(next)
	wg.Wait()
	even, odd = &lfwStats{}, &lfwStats{}
	for i, r := range res {
		st := even
		if i%2 == 1 {
			st = odd
		}
		if r.err != nil {
			t.Fatalf("%s: %v", refs[i].ID, r.err)
		}
		if r.face == nil {
			st.noFace++
			st.failed = append(st.failed, refs[i].ID)
			continue
		}
		ref := refs[i].Points
		// The largest face must contain the reference face's eye midpoint.
		mid := image.Pt(int((ref[0][0]+ref[1][0])/2), int((ref[0][1]+ref[1][1])/2))
		if !mid.In(r.face.Box) {
			st.wrongFace++
			st.failed = append(st.failed, refs[i].ID)
			continue
		}
		ex, ey := ref[1][0]-ref[0][0], ref[1][1]-ref[0][1]
		iod := math.Hypot(ex, ey)
		ux, uy := ex/iod, ey/iod // eye axis
		var e float64
		for k := range 5 {
			dx := r.face.Landmarks[k].X - ref[k][0]
			dy := r.face.Landmarks[k].Y - ref[k][1]
			ek := math.Hypot(dx, dy) / iod
			st.sum[k] += ek
			e += ek / 5
			st.bias[k].X += (dx*ux + dy*uy) / iod
			st.bias[k].Y += (-dx*uy + dy*ux) / iod
		}
		st.mean += e
		if e > 0.1 {
			st.over01++
		}
		st.n++
	}
	return even, odd
}

func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// TestLFWLandmarks measures landmark error against the reference points on
// the LFW images of pairs.txt (slow; skipped with -short). The bounds are the
// quality this package reaches; they fail when a change makes it worse.
func TestLFWLandmarks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs the detector on LFW images")
	}
	// The first 1200 reference images by default, so that the README's
	// go test ./... stays within go test's default 10-minute timeout;
	// FACEMATCH_LFW_LIMIT=0 measures all ~7700 (about 20 minutes).
	limit := 1200
	if s := os.Getenv("FACEMATCH_LFW_LIMIT"); s != "" {
		fmt.Sscan(s, &limit)
	}
	for _, tc := range []struct {
		name              string
		method            LandmarkMethod
		maxNME, maxOver01 float64
	}{
		// Bounds a little above the measured held-out figures.
		{"cascade", LandmarksCascade, 0.055, 0.08},
		{"onet", LandmarksONet, 0.050, 0.04},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(&Options{Landmarks: tc.method})
			if err != nil {
				t.Fatal(err)
			}
			even, odd := measureLFW(t, d, limit)
			t.Log("\nfit half (even lines of lfw-5point.jsonl):\n" + even.String())
			t.Log("\nheld-out half (odd lines):\n" + odd.String())
			for _, st := range []*lfwStats{even, odd} {
				total := st.n + st.noFace + st.wrongFace
				if fail := float64(st.noFace+st.wrongFace) / float64(total); fail > 0.015 {
					t.Errorf("detection failures %.2f%%, want <= 1.5%%", 100*fail)
				}
				if nme := st.mean / float64(st.n); nme > tc.maxNME {
					t.Errorf("mean NME %.4f, want <= %.3f", nme, tc.maxNME)
				}
				if share := float64(st.over01) / float64(st.n); share > tc.maxOver01 {
					t.Errorf("share of faces with NME > 0.1: %.2f%%, want <= %.0f%%", 100*share, 100*tc.maxOver01)
				}
			}
		})
	}
}
