package server

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestMultipleFacesEndToEnd: the two-face fixture as image2 answers with
// data.multipleFaces and data.faceCount, and single_face=Y turns it into
// 422 error_multiple_faces; a one-face selfie passes strict mode.
func TestMultipleFacesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tests run the full pipeline; skipped with -short")
	}
	biden := fixture(t, "biden_blue_room_2010.jpg")
	two := fixture(t, "obama_biden_two_faces.jpg")
	congress := fixture(t, "obama_congress_2009.jpg")
	_, ts, _ := newTestServer(t, realMatcher(t, false), nil)
	send := func(img2 []byte, extra ...part) *envelope {
		ct, body := multipartBody(t, append(append(validFields(), extra...),
			file(FieldImage1, "a.jpg", biden), file(FieldImage2, "b.jpg", img2))...)
		return post(t, ts.URL+PathFaceMatch, ct, body, nil)
	}
	e := send(two)
	if e.status != http.StatusOK || e.Data == nil || !e.Data.MultipleFaces || e.Data.FaceCount != (FaceCount{1, 2}) || !e.Data.IsMatch {
		t.Fatalf("two faces: status %d %+v", e.status, e.Data)
	}
	var data map[string]json.RawMessage
	if err := json.Unmarshal(e.raw["data"], &data); err != nil || string(data["faceCount"]) != `{"image1":1,"image2":2}` || string(data["multipleFaces"]) != "true" {
		t.Errorf("data JSON %s", e.raw["data"])
	}
	for _, v := range []string{"Y", "y"} {
		e = send(two, field(FieldSingleFace, v))
		if e.status != http.StatusUnprocessableEntity || e.ResponseCode != CodeMultipleFaces.ResponseCode ||
			e.ResponseKey != "error_multiple_faces" || e.Data != nil {
			t.Errorf("single_face=%s: status %d %+v", v, e.status, e.Response)
		}
	}
	e = send(congress, field(FieldSingleFace, "Y"))
	if e.status != http.StatusOK || e.Data.MultipleFaces || e.Data.FaceCount != (FaceCount{1, 1}) || e.Data.IsMatch {
		t.Errorf("one face, single_face=Y: status %d %+v", e.status, e.Data)
	}
	e = send(congress, field(FieldSingleFace, "maybe"))
	if e.status != http.StatusBadRequest || e.ResponseKey != CodeInvalidField.ResponseKey {
		t.Errorf("single_face=maybe: status %d %+v", e.status, e.Response)
	}
}
