package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/gallery"
)

var (
	galleryMatcherOnce sync.Once
	galleryMatcher     *facematch.Matcher
	galleryMatcherErr  error
)

func galleryTestMatcher(t *testing.T) *facematch.Matcher {
	t.Helper()
	galleryMatcherOnce.Do(func() { galleryMatcher, galleryMatcherErr = facematch.New(nil) })
	if galleryMatcherErr != nil {
		t.Fatal(galleryMatcherErr)
	}
	return galleryMatcher
}

func testImage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func galleryPost(t *testing.T, url string, parts ...part) *envelope {
	t.Helper()
	ct, body := multipartBody(t, parts...)
	return post(t, url, ct, body, nil)
}

func TestGalleryEndpoints(t *testing.T) {
	m := galleryTestMatcher(t)
	s, ts, _ := newTestServer(t, nil, nil)
	astronaut, moved, hopper := testImage(t, "astronaut.jpg"), testImage(t, "astronaut_moved.jpg"), testImage(t, "hopper.jpg")

	// Before SetGallery the endpoints are off.
	expectCode(t, galleryPost(t, ts.URL+PathGallerySearch, append(validFields(), file(FieldGalleryImage, "a.jpg", astronaut))...), CodeGalleryDisabled)

	g := gallery.NewMemory(m.ModelID(), nil)
	defer g.Close()
	s.SetGallery(g, m)

	enroll := func(id string, img []byte, extra ...part) *envelope {
		return galleryPost(t, ts.URL+PathGalleryEnroll, append(append(validFields(), field(FieldGalleryID, id), file(FieldGalleryImage, "x.jpg", img)), extra...)...)
	}
	if e := enroll("astronaut", astronaut); e.status != http.StatusOK || e.Status != "SUCCESS" {
		t.Fatalf("enroll: %d %+v", e.status, e.Response)
	}
	// The same face under another id: refused, naming the first.
	e := enroll("impostor", moved)
	if e.status != CodeDuplicateFace.Status || e.ResponseCode != CodeDuplicateFace.ResponseCode {
		t.Fatalf("duplicate: %d %+v", e.status, e.Response)
	}
	var dup GalleryEnrollData
	if err := json.Unmarshal(e.raw["data"], &dup); err != nil || dup.DuplicateID != "astronaut" || dup.Enrolled {
		t.Fatalf("duplicate data: %s", e.raw["data"])
	}
	// ...unless uniqueness is not asked for.
	if e := enroll("astronaut-2", moved, field(FieldUnique, "false")); e.status != http.StatusOK {
		t.Fatalf("enroll unique=false: %d %+v", e.status, e.Response)
	}
	expectCode(t, enroll("astronaut", hopper), CodeIDExists)
	if e := enroll("hopper", hopper); e.status != http.StatusOK {
		t.Fatalf("enroll hopper: %d %+v", e.status, e.Response)
	}

	// Consent and fields are checked as for face match.
	expectCode(t, galleryPost(t, ts.URL+PathGalleryEnroll, field(FieldReferenceID, "r"), field(FieldConsent, "N"), field(FieldConsentPurpose, "p"),
		field(FieldGalleryID, "x"), file(FieldGalleryImage, "x.jpg", hopper)), CodeConsentRequired)
	expectCode(t, galleryPost(t, ts.URL+PathGalleryEnroll, append(validFields(), file(FieldGalleryImage, "x.jpg", hopper))...), CodeMissingField)
	expectCode(t, enroll("bad\x01id", hopper), CodeInvalidField)
	expectCode(t, enroll("x", hopper, field(FieldThreshold, "0.5")), CodeInvalidThreshold)
	expectCode(t, enroll("x", smallPNG(t)), CodeNoFace)

	search := func(img []byte, extra ...part) *envelope {
		return galleryPost(t, ts.URL+PathGallerySearch, append(append(validFields(), file(FieldGalleryImage, "x.jpg", img)), extra...)...)
	}
	e = search(moved, field(FieldK, "2"), field(FieldMinPercentage, "70"))
	var sd GallerySearchData
	if e.status != http.StatusOK || json.Unmarshal(e.raw["data"], &sd) != nil || len(sd.Matches) != 2 || sd.Matches[0].Percentage < 70 {
		t.Fatalf("search: %d %s", e.status, e.raw["data"])
	}
	for _, mt := range sd.Matches {
		if mt.ID != "astronaut" && mt.ID != "astronaut-2" {
			t.Errorf("search for the astronaut found %q", mt.ID)
		}
	}
	expectCode(t, search(moved, field(FieldK, "0")), CodeInvalidField)
	expectCode(t, search(moved, field(FieldMinPercentage, "200")), CodeInvalidField)

	del := func(id string) *envelope {
		req, _ := http.NewRequest(http.MethodDelete, ts.URL+PathGalleryIdentity+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return decode(t, resp)
	}
	e = del("astronaut")
	var dd GalleryDeleteData
	if e.status != http.StatusOK || json.Unmarshal(e.raw["data"], &dd) != nil || !dd.Removed {
		t.Fatalf("delete: %d %s", e.status, e.raw["data"])
	}
	if e := del("astronaut"); e.status != http.StatusOK || string(e.raw["data"]) == "" {
		t.Fatalf("delete again: %d", e.status)
	}
	expectCode(t, del(""), CodeNotFound) // "/identities/" is not a clean path
	if n, _ := g.Count(t.Context()); n != 2 {
		t.Fatalf("%d enrolled after deletion, want 2", n)
	}
	// Wrong methods.
	resp, err := http.Get(ts.URL + PathGalleryEnroll)
	if err != nil {
		t.Fatal(err)
	}
	expectCode(t, decode(t, resp), CodeMethodNotAllowed)
	resp.Body.Close()
}

func TestGalleryCredentials(t *testing.T) {
	m := galleryTestMatcher(t)
	s, ts, _ := newTestServer(t, nil, &Options{ClientID: "id", ClientSecret: "secret"})
	s.SetGallery(gallery.NewMemory(m.ModelID(), nil), m)
	expectCode(t, galleryPost(t, ts.URL+PathGallerySearch, append(validFields(), file(FieldGalleryImage, "a.jpg", testImage(t, "hopper.jpg")))...), CodeUnauthorized)
}

// TestGalleryCodeTable: the G codes are unique, distinct from the E codes,
// and published in the OpenAPI document.
func TestGalleryCodeTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range codes {
		seen[c.ResponseCode], seen[c.ResponseKey] = true, true
	}
	for _, c := range galleryCodes {
		if seen[c.ResponseCode] || seen[c.ResponseKey] || c.Status < 400 || c.Message == "" {
			t.Errorf("bad or duplicate row %+v", c)
		}
		seen[c.ResponseCode], seen[c.ResponseKey] = true, true
		row := fmt.Sprintf("| %d | %s | %s |", c.Status, c.ResponseCode, c.ResponseKey)
		if !strings.Contains(string(openAPI), row) {
			t.Errorf("openapi.yaml lacks the row %q", row)
		}
	}
}

// TestEnrollFieldsThreshold: an enrolment without a threshold uses the
// one-to-many default, and the threshold is a plain decimal in the
// EnrollUnique range.
func TestEnrollFieldsThreshold(t *testing.T) {
	var req galleryRequest
	if err := enrollFields(map[string]string{FieldGalleryID: "a"}, &req); err != nil || req.threshold != gallery.DefaultUniqueThreshold {
		t.Fatalf("no threshold: %v, threshold %v, want %v", err, req.threshold, gallery.DefaultUniqueThreshold)
	}
	if err := enrollFields(map[string]string{FieldGalleryID: "a", FieldThreshold: "0.99"}, &req); err != nil || req.threshold != 0.99 {
		t.Fatalf("0.99: %v, threshold %v", err, req.threshold)
	}
	for _, bad := range []string{"0x1.fae147ae147aep-1", "0.5", "1", "NaN", "Inf"} {
		if err := enrollFields(map[string]string{FieldGalleryID: "a", FieldThreshold: bad}, &req); err == nil {
			t.Errorf("threshold %q accepted", bad)
		}
	}
}
