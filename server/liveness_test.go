package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/facematch/facematch"
)

// livenessMatcher answers like fakeMatcher and, when asked, adds a scripted
// liveness verdict for image2.
type livenessMatcher struct {
	fakeMatcher
	live *facematch.LivenessResult
}

func (f *livenessMatcher) Compare(ctx context.Context, a, b facematch.Source, o *facematch.CompareOptions) (*facematch.Result, error) {
	r, err := f.fakeMatcher.Compare(ctx, a, b, o)
	if err == nil && o != nil && o.Liveness {
		r.Liveness = f.live
	}
	return r, err
}

func TestLivenessField(t *testing.T) {
	attack := &facematch.LivenessResult{Live: false, Score: 0.1234567, Threshold: 0.5}
	_, ts, _ := newTestServer(t, &livenessMatcher{fakeMatcher{res: matchResult(95)}, attack}, nil)
	pngData := smallPNG(t)
	for _, tc := range []struct {
		value string // "" = field absent
		want  string // data.liveness as JSON, "" = absent
	}{
		{"", ""},
		{"N", ""},
		{"Y", `{"score":0.1235,"isLive":false}`},
		{" y ", `{"score":0.1235,"isLive":false}`},
	} {
		parts := validFields()
		if tc.value != "" {
			parts = append(parts, field(FieldLiveness, tc.value))
		}
		ct, body := multipartBody(t, append(parts, file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData))...)
		e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
		// An attack is still a successful scan: the platform decides.
		if e.status != 200 || e.Status != "SUCCESS" || e.Data == nil || !e.Data.IsMatch {
			t.Fatalf("liveness=%q: %d %+v", tc.value, e.status, e.Response)
		}
		var data map[string]json.RawMessage
		if err := json.Unmarshal(e.raw["data"], &data); err != nil {
			t.Fatal(err)
		}
		if got := string(data["liveness"]); got != tc.want {
			t.Errorf("liveness=%q: data.liveness %s, want %s", tc.value, got, tc.want)
		}
	}
	ct, body := multipartBody(t, append(validFields(), field(FieldLiveness, "maybe"),
		file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData))...)
	expectCode(t, post(t, ts.URL+PathFaceMatch, ct, body, nil), CodeInvalidField)
}
