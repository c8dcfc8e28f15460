package detect

import (
	"image"
	"image/draw"
	"math"
	"testing"

	xdraw "golang.org/x/image/draw"
	"gonum.org/v1/gonum/spatial/r2"
)

// cropTo returns a copy of img cut to r, with its origin at (0, 0).
func cropTo(img image.Image, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

// grow returns r grown by f of its width and height on every side.
func grow(r image.Rectangle, f float64) image.Rectangle {
	dx, dy := int(math.Round(f*float64(r.Dx()))), int(math.Round(f*float64(r.Dy())))
	return image.Rect(r.Min.X-dx, r.Min.Y-dy, r.Max.X+dx, r.Max.Y+dy)
}

// TestFaceFillingTheFrame crops fixture portraits to their own face box and
// tighter: the face then crosses the border on every side, and only the
// virtual padding gives it a window.
func TestFaceFillingTheFrame(t *testing.T) {
	d := detector(t)
	noPad, err := New(&Options{NoPadding: true, NoQuarterTurns: true, NoProposals: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"astronaut_eileen_collins.png", "obama_portrait_2012.jpg", "obama_congress_2009.jpg"} {
		img := fixture(t, name)
		faces, err := d.Detect(img)
		if err != nil || len(faces) != 1 {
			t.Fatalf("%s: %d faces, %v", name, len(faces), err)
		}
		ref := faces[0]
		for _, m := range []float64{0, -0.1, -0.2} {
			r := grow(ref.Box, m).Intersect(img.Bounds())
			c := cropTo(img, r)
			got, err := d.Detect(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Errorf("%s margin %v: %d faces, want 1", name, m, len(got))
				continue
			}
			// The landmarks must be the face's: compare with the
			// uncropped detection, relative to the eye distance.
			iod := r2.Norm(r2.Sub(ref.Landmarks[1], ref.Landmarks[0]))
			off := r2.Vec{X: float64(r.Min.X), Y: float64(r.Min.Y)}
			for k, p := range got[0].Landmarks {
				if e := r2.Norm(r2.Sub(r2.Add(p, off), ref.Landmarks[k])) / iod; e > 0.25 {
					t.Errorf("%s margin %v: landmark %d off by %.2f eye distances", name, m, k, e)
				}
			}
			if !got[0].Box.Overlaps(c.Bounds()) || got[0].Box.In(c.Bounds()) && m < 0 {
				t.Errorf("%s margin %v: box %v, want one crossing the crop %v", name, m, got[0].Box, c.Bounds())
			}
			if m <= -0.2 {
				// Without the padding this crop has no face: the test
				// exercises the padding.
				if np, _ := noPad.Detect(c); len(np) != 0 {
					t.Errorf("%s margin %v: found without padding too", name, m)
				}
			}
		}
	}
}

// TestTightPortraitEverySize: fixture portraits cut to their own face box
// grown by +10 %, 0 and −10 % (an ID-document portrait, a close selfie),
// then scaled to 120 to 1,000 px on the long side, give one face whose
// points are the uncropped detection's: mean error at most 0.1 of the eye
// distance (measured at most 0.064 on 2026-11-30).
func TestTightPortraitEverySize(t *testing.T) {
	d := detector(t)
	longs := []int{120, 250, 500, 1000}
	if testing.Short() {
		longs = []int{250, 1000}
	}
	for _, name := range []string{"astronaut_eileen_collins.png", "obama_portrait_2012.jpg", "obama_congress_2009.jpg", "obama_blue_room_2010.jpg", "biden_blue_room_2010.jpg"} {
		img := fixture(t, name)
		faces, err := d.Detect(img)
		if err != nil || len(faces) != 1 {
			t.Fatalf("%s: %d faces, %v", name, len(faces), err)
		}
		ref := faces[0]
		iod := r2.Norm(r2.Sub(ref.Landmarks[1], ref.Landmarks[0]))
		for _, m := range []float64{0.1, 0, -0.1} {
			r := grow(ref.Box, m).Intersect(img.Bounds())
			c := cropTo(img, r)
			for _, long := range longs {
				k := float64(long) / float64(max(r.Dx(), r.Dy()))
				w, h := int(math.Round(k*float64(r.Dx()))), int(math.Round(k*float64(r.Dy())))
				s := image.NewRGBA(image.Rect(0, 0, w, h))
				xdraw.CatmullRom.Scale(s, s.Bounds(), c, c.Bounds(), xdraw.Src, nil)
				got, err := d.Detect(s)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 {
					t.Errorf("%s margin %v, %dx%d: %d faces, want 1", name, m, w, h, len(got))
					continue
				}
				kx, ky := float64(w)/float64(r.Dx()), float64(h)/float64(r.Dy())
				var e float64
				for j, p := range got[0].Landmarks {
					// Back to the uncropped image (pixel centres at integers).
					q := r2.Vec{X: (p.X+0.5)/kx - 0.5 + float64(r.Min.X), Y: (p.Y+0.5)/ky - 0.5 + float64(r.Min.Y)}
					e += r2.Norm(r2.Sub(q, ref.Landmarks[j]))
				}
				if e /= 5 * iod; e > 0.1 {
					t.Errorf("%s margin %v, %dx%d: landmarks off by %.3f eye distances on average (box %v, score %.1f)", name, m, w, h, e, got[0].Box, got[0].Score)
				}
			}
		}
	}
}

// TestPartialFaceNotHair: obama_partial_face.jpg used to give only a box on
// the hair ((85,1)-(279,195), score 6.2). It must give its real face or
// none.
func TestPartialFaceNotHair(t *testing.T) {
	faces, err := detector(t).Detect(fixture(t, "obama_partial_face.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	hair := image.Rect(85, 1, 279, 195)
	for _, f := range faces {
		t.Logf("box %v score %.1f landmarks %v", f.Box, f.Score, f.Landmarks)
		if iou(f.Box, hair) > 0.3 {
			t.Errorf("face %v on the hair", f.Box)
		}
	}
	if len(faces) > 1 {
		t.Errorf("%d faces, want at most 1", len(faces))
	}
}

// TestPortraitEverySize: a one-person portrait gives exactly one face at
// every size from 160 to 2000 px on the long side (it used to give two
// overlapping boxes at 440, 640 wide, 1320 and 1480).
func TestPortraitEverySize(t *testing.T) {
	d := detector(t)
	src := fixture(t, "obama_portrait_2012.jpg")
	sb := src.Bounds()
	longs := []int{160, 200, 260, 320, 380, 440, 500, 560, 640 * sb.Dy() / sb.Dx(), 700, 800, 900, 1000, 1137, 1320, 1480, 1640, 1800, 2000}
	if testing.Short() {
		longs = []int{160, 440, 640 * sb.Dy() / sb.Dx(), 1320, 2000}
	}
	for _, long := range longs {
		w := int(math.Round(float64(sb.Dx()) * float64(long) / float64(sb.Dy())))
		dst := image.NewRGBA(image.Rect(0, 0, w, long))
		xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, sb, xdraw.Src, nil)
		faces, err := d.Detect(dst)
		if err != nil {
			t.Fatal(err)
		}
		if len(faces) != 1 {
			t.Errorf("%dx%d: %d faces, want 1", w, long, len(faces))
			for _, f := range faces {
				t.Logf("  box %v score %.1f orientation %d", f.Box, f.Score, f.Orientation)
			}
		}
	}
}

func TestDedupe(t *testing.T) {
	pts := func(dx float64) [5]r2.Vec {
		return [5]r2.Vec{{X: 30 + dx, Y: 40}, {X: 70 + dx, Y: 40}, {X: 50 + dx, Y: 60}, {X: 35 + dx, Y: 80}, {X: 65 + dx, Y: 80}}
	}
	a := Face{Box: image.Rect(0, 0, 100, 100), Score: 10, Landmarks: pts(0)}
	b := Face{Box: image.Rect(5, 5, 105, 105), Score: 20, Landmarks: pts(3)}  // IoU 0.82 with a, same points
	c := Face{Box: image.Rect(60, 0, 160, 100), Score: 5, Landmarks: pts(60)} // IoU 0.25 with a
	e := Face{Box: image.Rect(10, 0, 110, 100), Score: 8, Landmarks: pts(40)} // IoU 0.82 with a, another face
	got := dedupe([]Face{a, b, c, e})
	if len(got) != 3 || got[0].Score != 20 || got[1].Score != 8 || got[2].Score != 5 {
		t.Errorf("dedupe: %v", got)
	}
	if len(dedupe(nil)) != 0 {
		t.Error("dedupe(nil) not empty")
	}
}

func TestPaddedRepeatsEdges(t *testing.T) {
	g := grayImage{Pix: []uint8{1, 2, 3, 4, 5, 6}, W: 3, H: 2}
	p := g.padded(2)
	want := []uint8{
		1, 1, 1, 2, 3, 3, 3,
		1, 1, 1, 2, 3, 3, 3,
		1, 1, 1, 2, 3, 3, 3,
		4, 4, 4, 5, 6, 6, 6,
		4, 4, 4, 5, 6, 6, 6,
		4, 4, 4, 5, 6, 6, 6,
	}
	if p.W != 7 || p.H != 6 || string(p.Pix) != string(want) {
		t.Errorf("padded: %dx%d %v", p.W, p.H, p.Pix)
	}
}

func TestTurned(t *testing.T) {
	// 3x2:   0 10 20      turned once (rotated's theta = 90°, the face
	//       30 40 50      tilted clockwise becomes upright): 2x3
	g := grayImage{W: 3, H: 2, Pix: []uint8{0, 10, 20, 30, 40, 50}}
	want := [4]string{
		string([]uint8{0, 10, 20, 30, 40, 50}),
		string([]uint8{20, 50, 10, 40, 0, 30}),
		string([]uint8{50, 40, 30, 20, 10, 0}),
		string([]uint8{30, 0, 40, 10, 50, 20}),
	}
	for k := range 4 {
		tg, toSrc := g.turned(k)
		if string(tg.Pix) != want[k] {
			t.Errorf("k=%d: %dx%d %v", k, tg.W, tg.H, tg.Pix)
		}
		for i, v := range tg.Pix {
			x, y := toSrc(float64(i%tg.W), float64(i/tg.W))
			if g.Pix[int(y)*g.W+int(x)] != v {
				t.Errorf("k=%d: toSrc of pixel %d is (%v, %v)", k, i, x, y)
			}
		}
	}
}
