package detect

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/internal/sharedtest"
)

var (
	propDetOnce sync.Once
	propDet     *Detector
	propDetErr  error
)

// proposalDetector is a Detector with Options.Proposals on, the rest
// default.
func proposalDetector(t testing.TB) *Detector {
	t.Helper()
	propDetOnce.Do(func() { propDet, propDetErr = New(&Options{Proposals: true}) })
	if propDetErr != nil {
		t.Fatal(propDetErr)
	}
	return propDet
}

// kpop13Images lists the images of ../shared/datasets/kpop13, sorted by
// path (relative, slash-separated).
func kpop13Images(t testing.TB) (dir string, rels []string) {
	t.Helper()
	dir = sharedtest.Path(t, "datasets", "kpop13")
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && filepath.Ext(p) == ".jpg" {
			rel, _ := filepath.Rel(dir, p)
			rels = append(rels, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rels)
	return dir, rels
}

func decodePath(t testing.TB, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(data, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestProposalsOffByDefault: with the default options the stage never
// runs, even on images where it would (no face found), and with it on an
// image where the default finds faces gets exactly the same faces.
func TestProposalsOffByDefault(t *testing.T) {
	def := detector(t)
	if def.mtcnn != nil {
		t.Fatal("default detector holds the MTCNN networks")
	}
	on := proposalDetector(t)
	before := proposalRuns.Load()
	for _, name := range []string{"noface_coffee.png", "noface_rocket.jpg", "grace_hopper_128.jpg", "obama_portrait_2012.jpg", "obama_biden_two_faces.jpg"} {
		img := fixture(t, name)
		want, err := def.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if n := proposalRuns.Load() - before; n != 0 {
			t.Fatalf("%s: default options ran the proposal stage %d times", name, n)
		}
		if len(want) == 0 {
			continue
		}
		got, err := on.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: with Proposals on\n got %+v\nwant %+v", name, got, want)
		}
		if n := proposalRuns.Load() - before; n != 0 {
			t.Fatalf("%s: the proposal stage ran on an image with faces", name)
		}
	}
}

// TestProposalsFindTightCrop: on the first kpop13 image (a 160x160 crop
// that the face fills) where the default detector finds no face, the stage
// finds one, marked Proposed, with landmarks in a face's order.
func TestProposalsFindTightCrop(t *testing.T) {
	dir, rels := kpop13Images(t)
	def, on := detector(t), proposalDetector(t)
	for _, rel := range rels {
		img := decodePath(t, filepath.Join(dir, filepath.FromSlash(rel)))
		faces, err := def.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(faces) > 0 {
			continue
		}
		before := proposalRuns.Load()
		faces, err = on.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if proposalRuns.Load() == before {
			t.Fatalf("%s: the proposal stage did not run", rel)
		}
		if len(faces) != 1 {
			t.Fatalf("%s: %d faces with Proposals on, want 1: %+v", rel, len(faces), faces)
		}
		f := faces[0]
		b := img.Bounds()
		if !f.Proposed || f.Score != 0 {
			t.Errorf("%s: face not marked: Proposed %v, Score %v", rel, f.Proposed, f.Score)
		}
		// The crop is the face: the box covers most of the frame.
		if in := f.Box.Intersect(b); in.Dx()*in.Dy() < b.Dx()*b.Dy()/4 {
			t.Errorf("%s: box %v covers under a quarter of %v", rel, f.Box, b)
		}
		l := f.Landmarks
		if !(l[0].X < l[1].X && l[3].X < l[4].X && l[0].Y < l[2].Y && l[1].Y < l[2].Y && l[2].Y < l[3].Y && l[2].Y < l[4].Y) {
			t.Errorf("%s: landmarks not in a face's layout: %v", rel, l)
		}
		t.Logf("%s: default no face; with Proposals %v", rel, f.Box)
		return
	}
	t.Skip("the default detector finds a face on every kpop13 image")
}

// TestProposalsNoFaceFixtures: the stage runs on the no-face fixtures
// and finds nothing there.
func TestProposalsNoFaceFixtures(t *testing.T) {
	on := proposalDetector(t)
	for _, name := range []string{"noface_cat_chelsea.png", "noface_coffee.png", "noface_hubble_deep_field.jpg", "noface_rocket.jpg"} {
		before := proposalRuns.Load()
		faces, err := on.Detect(fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if proposalRuns.Load() == before {
			t.Errorf("%s: the proposal stage did not run", name)
		}
		if len(faces) != 0 {
			t.Errorf("%s: %d faces with Proposals on: %+v", name, len(faces), faces)
		}
	}
}

func TestProposalsNeedONet(t *testing.T) {
	if _, err := New(&Options{Proposals: true, Landmarks: LandmarksCascade}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("Proposals with LandmarksCascade: err %v, want ErrInvalidOptions", err)
	}
}

// TestMeasureProposalsKpop13 counts the kpop13 images without a face,
// Proposals off and on (DETECT_MEASURE_PROPOSALS=1; it runs the detector
// twice over 329 images).
func TestMeasureProposalsKpop13(t *testing.T) {
	if os.Getenv("DETECT_MEASURE_PROPOSALS") != "1" {
		t.Skip("set DETECT_MEASURE_PROPOSALS=1 to measure")
	}
	dir, rels := kpop13Images(t)
	for _, c := range []struct {
		name string
		d    *Detector
	}{{"off", detector(t)}, {"on", proposalDetector(t)}} {
		var none, proposed int
		var took time.Duration
		for _, rel := range rels {
			img := decodePath(t, filepath.Join(dir, filepath.FromSlash(rel)))
			start := time.Now()
			faces, err := c.d.Detect(img)
			took += time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) == 0 {
				none++
			} else if faces[0].Proposed {
				proposed++
			}
		}
		t.Logf("Proposals %s: %d of %d images without a face, %d found by the stage; %.1f ms/image (wall)", c.name, none, len(rels), proposed, float64(took.Milliseconds())/float64(len(rels)))
	}
}
