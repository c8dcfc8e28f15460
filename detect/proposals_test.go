package detect

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/internal/lfwcrop"
	"github.com/facematch/facematch/internal/sharedtest"
)

var (
	noPropOnce sync.Once
	noProp     *Detector
	noPropErr  error
)

// noProposalDetector is a Detector with Options.NoProposals set, the rest
// default.
func noProposalDetector(t testing.TB) *Detector {
	t.Helper()
	noPropOnce.Do(func() { noProp, noPropErr = New(&Options{NoProposals: true}) })
	if noPropErr != nil {
		t.Fatal(noPropErr)
	}
	return noProp
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

// TestProposalsKeepFacesFound: the stage runs when no face was found or
// all lie on one side of the image's centre line, never changes or drops a face the
// cascade stages found, and on these fixtures (no face, one face, two
// faces) adds none; with Options.NoProposals it never runs.
func TestProposalsKeepFacesFound(t *testing.T) {
	def := detector(t)
	if def.mtcnn == nil {
		t.Fatal("default detector lacks the MTCNN networks")
	}
	off := noProposalDetector(t)
	if off.mtcnn != nil {
		t.Fatal("NoProposals detector holds the MTCNN networks")
	}
	for _, name := range []string{"noface_coffee.png", "noface_rocket.jpg", "grace_hopper_128.jpg", "obama_portrait_2012.jpg", "obama_biden_two_faces.jpg"} {
		img := fixture(t, name)
		before := proposalRuns.Load()
		want, err := off.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if n := proposalRuns.Load() - before; n != 0 {
			t.Fatalf("%s: NoProposals ran the proposal stage %d times", name, n)
		}
		got, err := def.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		should := len(want) == 0 || oneSide(want, img.Bounds())
		if ran := proposalRuns.Load() != before; ran != should {
			t.Errorf("%s: the proposal stage ran: %v, want %v", name, ran, should)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: default and NoProposals differ\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestOneSide: faces all left or all right of the centre line, none
// spanning it.
func TestOneSide(t *testing.T) {
	b := image.Rect(0, 0, 200, 100)
	face := func(x0, x1 int) Face { return Face{Box: image.Rect(x0, 10, x1, 10+x1-x0)} }
	for _, c := range []struct {
		name  string
		faces []Face
		want  bool
	}{
		{"one left", []Face{face(10, 60)}, true},
		{"one right", []Face{face(120, 180)}, true},
		{"two right", []Face{face(110, 140), face(150, 190)}, true},
		{"spanning", []Face{face(80, 130)}, false},
		{"one each side", []Face{face(10, 60), face(120, 180)}, false},
		{"left and spanning", []Face{face(10, 60), face(90, 120)}, false},
	} {
		if got := oneSide(c.faces, b); got != c.want {
			t.Errorf("%s: oneSide %v, want %v", c.name, got, c.want)
		}
	}
}

// TestAllDoubtful: the faces that may be parts of a missed face are
// upright cascade faces scoring under MinRotatedScore or given under
// MinFaceProb by ONet, all of them.
func TestAllDoubtful(t *testing.T) {
	d := detector(t)
	weak := Face{Score: 12, onetProb: 0.95}
	unsure := Face{Score: 40, onetProb: 0.3}
	sure := Face{Score: 40, onetProb: 0.95}
	for _, c := range []struct {
		name  string
		faces []Face
		want  bool
	}{
		{"weak", []Face{weak}, true},
		{"unsure", []Face{unsure}, true},
		{"weak and unsure", []Face{weak, unsure}, true},
		{"weak and sure", []Face{weak, sure}, false},
		{"sure", []Face{sure}, false},
		{"score 20", []Face{{Score: 20, onetProb: 0.9}}, false},
		{"proposed", []Face{{Proposed: true}}, false},
		{"quarter turn", []Face{{Score: 12, Orientation: 90}}, false},
		{"rotated", []Face{{Score: 12, Angle: 20}}, false},
	} {
		if got := d.allDoubtful(c.faces); got != c.want {
			t.Errorf("%s: allDoubtful %v, want %v", c.name, got, c.want)
		}
	}
}

// TestProposalsFindMissedSubject: on these LFW images pico finds only a
// smaller face beside the subject, whose head is turned; the proposal stage
// finds the subject, which becomes the largest face, and keeps the face
// found.
func TestProposalsFindMissedSubject(t *testing.T) {
	for _, name := range []string{
		"Yasser_Arafat/Yasser_Arafat_0003.jpg",
		"Chok_Tong_Goh/Chok_Tong_Goh_0001.jpg",
	} {
		img := decodePath(t, sharedtest.Path(t, "datasets", "lfw", name))
		want, err := noProposalDetector(t).Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 1 {
			t.Fatalf("%s: %d faces without the stage, want 1 (the test needs the subject missed)", name, len(want))
		}
		faces, err := detector(t).Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		c := faces[0].Box.Min.Add(faces[0].Box.Max).Div(2)
		if !faces[0].Proposed || math.Hypot(float64(c.X-125), float64(c.Y-125)) > 25 {
			t.Errorf("%s: largest face %+v, want the subject (centred, proposed)", name, faces[0])
		}
		if !slices.ContainsFunc(faces, func(f Face) bool { return reflect.DeepEqual(f, want[0]) }) {
			t.Errorf("%s: the face found without the stage is gone: %+v", name, faces)
		}
	}
}

// TestProposalsFindTightCrop: on the first kpop13 image (a 160x160 crop
// that the face fills) where the detector without the stage finds no face,
// the default detector finds one, marked Proposed, with landmarks in a
// face's order.
func TestProposalsFindTightCrop(t *testing.T) {
	dir, rels := kpop13Images(t)
	def, on := noProposalDetector(t), detector(t)
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
			t.Fatalf("%s: %d faces by default, want 1: %+v", rel, len(faces), faces)
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
		t.Logf("%s: no face without the stage; with it %v", rel, f.Box)
		return
	}
	t.Skip("the detector without the stage finds a face on every kpop13 image")
}

// TestProposalsNoFaceFixtures: the stage runs on the no-face fixtures
// and finds nothing there.
func TestProposalsNoFaceFixtures(t *testing.T) {
	on := detector(t)
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
			t.Errorf("%s: %d faces by default: %+v", name, len(faces), faces)
		}
	}
}

// TestProposalsNeedONet: with cascade landmarks there is no ONet to
// confirm proposals, so the stage is off.
func TestProposalsNeedONet(t *testing.T) {
	d, err := New(&Options{Landmarks: LandmarksCascade})
	if err != nil {
		t.Fatal(err)
	}
	if d.mtcnn != nil {
		t.Fatal("LandmarksCascade detector holds the MTCNN networks")
	}
}

// TestMeasureProposalsKpop13 counts the kpop13 images without a face,
// NoProposals set and not (DETECT_MEASURE_PROPOSALS=1; it runs the detector
// twice over 329 images).
func TestMeasureProposalsKpop13(t *testing.T) {
	if os.Getenv("DETECT_MEASURE_PROPOSALS") != "1" {
		t.Skip("set DETECT_MEASURE_PROPOSALS=1 to measure")
	}
	dir, rels := kpop13Images(t)
	for _, c := range []struct {
		name string
		d    *Detector
	}{{"off", noProposalDetector(t)}, {"on", detector(t)}} {
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

// TestProposalsFindFaceCutByFrame: LFW images cut to their reference face
// box (issue 9's margin-0 crops), on which the cascade stages find nothing
// and ONet, reading the proposal with black over the edge, scores the face
// under minProposalProb (0.81, 0.62 and 0.85 on the JPEG crops that
// bench/cmd/lfw reads): with the edges repeated
// (onet.PadEdge), the proposal stage finds the face.
func TestProposalsFindFaceCutByFrame(t *testing.T) {
	d := detector(t)
	for _, c := range lfwFaceCrops(t, 1, "Chok_Tong_Goh_0001", "Jiang_Zemin_0010", "Steve_Ballmer_0001") {
		name, crop := c.name, c.img
		faces, err := d.Detect(crop)
		if err != nil {
			t.Fatal(err)
		}
		if len(faces) == 0 {
			t.Errorf("%s, margin 0 (%v): no face", name, crop.Bounds().Size())
			continue
		}
		f := faces[0]
		b := crop.Bounds()
		c := f.Box.Min.Add(f.Box.Max).Div(2)
		mid := b.Min.Add(b.Max).Div(2)
		if dx, dy := c.X-mid.X, c.Y-mid.Y; dx*dx+dy*dy > b.Dx()*b.Dx()/16 {
			t.Errorf("%s: face %v centred at %v, the crop %v at %v", name, f.Box, c, b, mid)
		}
		if !f.Proposed {
			t.Errorf("%s: face %v found by the cascade stages: the test no longer exercises the proposal stage", name, f.Box)
		}
	}
}

// namedImage is an image with a name for messages.
type namedImage struct {
	name string
	img  *image.RGBA
}

// lfwFaceCrops returns the LFW images of names (as Name_0001) cut to their
// reference face box (issue 9's margin-0 crops, package lfwcrop) and
// enlarged by scale, in the order of the reference file.
func lfwFaceCrops(t *testing.T, scale float64, names ...string) []namedImage {
	t.Helper()
	refs, err := lfwcrop.ReadRefs(sharedtest.Path(t, "golden", "landmarks", "lfw-5point.jsonl"), 0)
	if err != nil {
		t.Fatal(err)
	}
	datasets := sharedtest.Path(t, "datasets")
	var out []namedImage
	for _, r := range refs {
		name := strings.TrimSuffix(filepath.Base(r.ID), ".jpg")
		if !slices.Contains(names, name) {
			continue
		}
		img, err := lfwcrop.Load(datasets, r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, namedImage{name, lfwcrop.Scale(lfwcrop.Crop(img, r.Box, 0), scale)})
	}
	if len(out) != len(names) {
		t.Fatalf("found %d of %v in the reference file", len(out), names)
	}
	return out
}

// TestProposalsReplaceFacePart: LFW images cut to their reference face
// box and enlarged four times (a small, soft portrait that fills the
// frame, as an upscaled ID-document photo is): the cascade stages miss the
// face, which crosses the frame, and find only a doubtful window on a part
// of it (an eye and the nose), scoring under MinRotatedScore (the first
// three) or given under MinFaceProb by ONet (the others: 0.65, 0.03, 0.06
// at scores 40, 24, 26). The proposal stage runs because every face found
// is doubtful, and ONet's face around the window replaces it.
func TestProposalsReplaceFacePart(t *testing.T) {
	def, noProp := detector(t), noProposalDetector(t)
	for _, c := range lfwFaceCrops(t, 4, "George_Papandreou_0004", "Marisa_Tomei_0002", "Micky_Arison_0001", "Jiang_Zemin_0002", "Aung_San_Suu_Kyi_0002", "Greg_Ostertag_0002") {
		name, big := c.name, c.img
		area := big.Bounds().Dx() * big.Bounds().Dy()
		part, err := noProp.Detect(big)
		if err != nil {
			t.Fatal(err)
		}
		// The premise: one doubtful window, well inside the face.
		if len(part) != 1 || !noProp.allDoubtful(part) || part[0].Box.Dx()*part[0].Box.Dy() > area/4 {
			t.Fatalf("%s: without the proposal stage %v (ONet %.2f), want one doubtful window on a part of the face", name, boxesScores(part), probs(part))
		}
		faces, err := def.Detect(big)
		if err != nil {
			t.Fatal(err)
		}
		if len(faces) != 1 {
			t.Fatalf("%s: %v, want one face", name, boxesScores(faces))
		}
		f := faces[0]
		in := f.Box.Intersect(big.Bounds())
		if !f.Proposed || !part[0].Box.Min.Add(part[0].Box.Max).Div(2).In(f.Box) || in.Dx()*in.Dy() < area/2 {
			t.Errorf("%s: %v (proposed %v), want the face around %v filling the frame", name, f.Box, f.Proposed, part[0].Box)
		}
	}
}

// probs lists the ONet face probabilities of fs.
func probs(fs []Face) []float32 {
	var p []float32
	for _, f := range fs {
		p = append(p, f.onetProb)
	}
	return p
}

// boxesScores lists the boxes and scores of fs, for messages.
func boxesScores(fs []Face) []string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("%v@%.1f", f.Box, f.Score))
	}
	return s
}
