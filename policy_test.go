package facematch

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/internal/imageio"
)

// decodeFixture decodes a shared fixture (skipping when ../shared is absent).
func decodeFixture(t *testing.T, name string) image.Image {
	t.Helper()
	img, _, err := imageio.Decode(readFile(t, fixture(t, name)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// scaled returns the part r of src resized by factor f.
func scaled(src image.Image, r image.Rectangle, f float64) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, int(float64(r.Dx())*f), int(float64(r.Dy())*f)))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, r, draw.Src, nil)
	return dst
}

// idCardSelfie builds the KYC selfie of the issue: the holder (a portrait
// of Obama scaled to half) with a small card below the face that shows
// another person's document photo (Biden's portrait, its face about a
// third as wide as the holder's). It returns the photo and the card's
// rectangle in it.
func idCardSelfie(t *testing.T) (image.Image, image.Rectangle) {
	t.Helper()
	holder := decodeFixture(t, "obama_congress_2009.jpg")    // 626x1200, face ~338 px
	document := decodeFixture(t, "biden_blue_room_2010.jpg") // 970x2204, face ~331 px
	h := scaled(holder, holder.Bounds(), 0.5)                // face ~169 px
	// The card: white with a margin, the document's head and shoulders.
	photo := scaled(document, image.Rect(330, 100, 850, 760), 0.18) // face ~60 px
	card := image.NewRGBA(image.Rect(0, 0, photo.Bounds().Dx()+60, photo.Bounds().Dy()+16))
	draw.Draw(card, card.Bounds(), image.NewUniform(color.RGBA{235, 235, 225, 255}), image.Point{}, draw.Src)
	draw.Draw(card, photo.Bounds().Add(image.Pt(8, 8)), photo, image.Point{}, draw.Src)
	canvas := image.NewRGBA(image.Rect(0, 0, h.Bounds().Dx(), h.Bounds().Dy()))
	draw.Draw(canvas, canvas.Bounds(), h, image.Point{}, draw.Src)
	// Below the holder's face (at y ~ 121..290 after scaling), held at chest height.
	at := image.Pt(40, 360)
	cr := card.Bounds().Add(at)
	draw.Draw(canvas, cr, card, image.Point{}, draw.Src)
	return canvas, cr
}

// TestIDCardSelfie: a selfie holding an ID card compares the holder; the
// card's face is counted but does not compete, so it can neither match its
// owner nor flag the photo.
func TestIDCardSelfie(t *testing.T) {
	if testing.Short() {
		t.Skip("large photos: skipped in -short mode")
	}
	m := newTestMatcher(t)
	ctx := context.Background()
	selfie, card := idCardSelfie(t)
	_, faces, err := m.Detect(ctx, Image(selfie))
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) < 2 || !faces[1].Box.Overlaps(card) {
		t.Fatalf("the card's face was not found: faces %v, card at %v", faces, card)
	}
	cardOwner := File(fixture(t, "biden_blue_room_2010.jpg"))
	holder := File(fixture(t, "obama_portrait_2012.jpg"))

	res, err := m.Compare(ctx, cardOwner, Image(selfie), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("card owner vs ID-card selfie: cos %.4f → %s, faces %d, used %d", res.Similarity, res.PercentageText(), len(res.Images[1].Faces), res.Images[1].Used)
	if res.Match || res.MultipleFaces || res.Images[1].Used != 0 {
		t.Errorf("card owner: Match %v (%s), MultipleFaces %v, used face %d; want no match on the holder, not flagged",
			res.Match, res.PercentageText(), res.MultipleFaces, res.Images[1].Used)
	}
	res, err = m.Compare(ctx, holder, Image(selfie), &CompareOptions{RequireSingleFace: true})
	if err != nil {
		t.Fatalf("holder, strict mode: %v (the card must not count as a second face)", err)
	}
	t.Logf("holder vs ID-card selfie: cos %.4f → %s", res.Similarity, res.PercentageText())
	if !res.Match || res.MultipleFaces {
		t.Errorf("holder: Match %v (%s), MultipleFaces %v; want a match, not flagged", res.Match, res.PercentageText(), res.MultipleFaces)
	}
	// The bypass the default closes: searching image2's faces finds the card.
	res, err = m.Compare(ctx, cardOwner, Image(selfie), &CompareOptions{BestFace: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("card owner vs ID-card selfie, BestFace: cos %.4f → %s, used face %d", res.Similarity, res.PercentageText(), res.Images[1].Used)
	if !res.Match || res.Images[1].Used == 0 {
		t.Errorf("BestFace: Match %v using face %d; the card's face should win (this is why it is not the default)", res.Match, res.Images[1].Used)
	}
}

// TestTwoFacesFlagged: two people of the same size in image2 set
// MultipleFaces, and strict mode refuses the photo with ErrMultipleFaces on
// image 2.
func TestTwoFacesFlagged(t *testing.T) {
	if testing.Short() {
		t.Skip("large photos: skipped in -short mode")
	}
	m := newTestMatcher(t)
	ctx := context.Background()
	two := File(fixture(t, "obama_biden_two_faces.jpg"))
	for _, ref := range []string{"obama_portrait_2012.jpg", "biden_blue_room_2010.jpg"} {
		res, err := m.Compare(ctx, File(fixture(t, ref)), two, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !res.MultipleFaces || len(res.Images[1].Faces) != 2 || res.Images[1].Used != 0 {
			t.Errorf("%s: MultipleFaces %v, %d faces, used %d; want flagged, 2 faces, the largest used",
				ref, res.MultipleFaces, len(res.Images[1].Faces), res.Images[1].Used)
		}
		_, err = m.Compare(ctx, File(fixture(t, ref)), two, &CompareOptions{RequireSingleFace: true})
		var ie *ImageError
		if !errors.Is(err, ErrMultipleFaces) || !errors.As(err, &ie) || ie.Image != 2 {
			t.Errorf("%s, strict mode: err = %v, want ErrMultipleFaces on image 2", ref, err)
		}
	}
	// image1 with two faces is not an error in strict mode: only the
	// selfie is held to one person (a document may show a ghost portrait).
	res, err := m.Compare(ctx, two, File(fixture(t, "biden_blue_room_2010.jpg")), &CompareOptions{RequireSingleFace: true})
	if err != nil || res.MultipleFaces {
		t.Errorf("two faces in image1, strict mode: %v, %+v", err, res)
	}
}

// TestBestFaceFindsEachPerson: with BestFace the same two-face photo
// compared with each person's portrait uses a different face each time.
func TestBestFaceFindsEachPerson(t *testing.T) {
	if testing.Short() {
		t.Skip("large photos")
	}
	m := newTestMatcher(t)
	two := File(fixture(t, "obama_biden_two_faces.jpg"))
	best := &CompareOptions{BestFace: true}
	a, err := m.Compare(context.Background(), File(fixture(t, "obama_portrait_2012.jpg")), two, best)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Compare(context.Background(), File(fixture(t, "biden_blue_room_2010.jpg")), two, best)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Match || !b.Match || a.Images[1].Used == b.Images[1].Used {
		t.Fatalf("BestFace: matches %v %v on faces %d and %d", a.Match, b.Match, a.Images[1].Used, b.Images[1].Used)
	}
	// Obama is left of Biden in the photo.
	fa, fb := a.Images[1].Faces[a.Images[1].Used], b.Images[1].Faces[b.Images[1].Used]
	if fa.Box.Min.X >= fb.Box.Min.X {
		t.Errorf("Obama's face at x=%d is not left of Biden's at x=%d", fa.Box.Min.X, fb.Box.Min.X)
	}
	if !a.MultipleFaces || !b.MultipleFaces {
		t.Error("BestFace results not flagged as multiple faces")
	}
}

// TestEmbedIsComparesVector: Compare (default options) scores exactly
// compare.Similarity of the two Embed vectors (the cosine after the bundled
// normalisation) — the bench and stored templates rely on it — also when
// image2 holds several faces.
func TestEmbedIsComparesVector(t *testing.T) {
	if testing.Short() {
		t.Skip("large photos")
	}
	m := newTestMatcher(t)
	ctx := context.Background()
	selfie, _ := idCardSelfie(t)
	for _, pair := range [][2]Source{
		{File(fixture(t, "obama_portrait_2012.jpg")), File(fixture(t, "obama_biden_two_faces.jpg"))},
		{File(fixture(t, "obama_biden_two_faces.jpg")), File(fixture(t, "biden_blue_room_2010.jpg"))},
		{File(fixture(t, "biden_blue_room_2010.jpg")), Image(selfie)},
	} {
		res, err := m.Compare(ctx, pair[0], pair[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		v1, _, err := m.Embed(ctx, pair[0])
		if err != nil {
			t.Fatal(err)
		}
		v2, _, err := m.Embed(ctx, pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if c := compare.Similarity(v1, v2); math.Float64bits(c) != math.Float64bits(res.Similarity) {
			t.Errorf("%v / %v: Compare %v, cosine of Embed %v", pair[0], pair[1], res.Similarity, c)
		}
	}
}

func TestCompetingFaces(t *testing.T) {
	face := func(w int) detect.Face { return detect.Face{Box: image.Rect(0, 0, w, w)} }
	for _, tc := range []struct {
		widths []int
		used   int
		want   int
	}{
		{nil, 0, 0},
		{[]int{100}, 0, 0},
		{[]int{100, 50}, 0, 1}, // exactly half competes
		{[]int{100, 49}, 0, 0}, // a card-sized face does not
		{[]int{100, 90, 30}, 0, 1},
		{[]int{100, 90, 60}, 1, 2}, // the largest competes when another face is used
		{[]int{100, 20, 20, 20}, 0, 0},
	} {
		var faces []detect.Face
		for _, w := range tc.widths {
			faces = append(faces, face(w))
		}
		if got := competingFaces(faces, tc.used); got != tc.want {
			t.Errorf("competingFaces(%v, used %d) = %d, want %d", tc.widths, tc.used, got, tc.want)
		}
	}
}

// TestResultRounding: Result.Percentage is rounded to two decimals and
// Match is decided on it, so the text never contradicts the verdict.
func TestResultRounding(t *testing.T) {
	m := newTestMatcher(t)
	res, err := m.Compare(context.Background(), File(testdata(t, "astronaut.jpg")), File(testdata(t, "hopper.jpg")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Percentage != compare.RoundPercentage(m.Calibration().Percentage(res.Similarity)) {
		t.Errorf("Percentage %v is not the calibrated similarity rounded to two decimals", res.Percentage)
	}
	// A calibration that puts this pair's score at 69.997 % shows 70.00%
	// and must match at 0.70.
	cal := m.Calibration()
	target := 69.997
	cal.B = math.Log(target/(100-target)) - cal.A*res.Similarity
	m2, err := New(&Options{Calibration: &cal})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := m2.Compare(context.Background(), File(testdata(t, "astronaut.jpg")), File(testdata(t, "hopper.jpg")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.PercentageText() != "70.00%" || !res2.Match || res2.Percentage != 70 {
		t.Errorf("69.997 %%: shown %s (%v), Match %v; want 70.00%% and a match", res2.PercentageText(), res2.Percentage, res2.Match)
	}
}
