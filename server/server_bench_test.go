package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkFaceMatch measures the HTTP layer: parsing a two-upload body,
// and full requests on loopback with a fake and with the real Matcher.
func BenchmarkFaceMatch(b *testing.B) {
	portrait := fixture(b, "obama_portrait_2012.jpg")
	congress := fixture(b, "obama_congress_2009.jpg")
	ct, body := multipartBody(b, append(validFields(), file(FieldImage1, "a.jpg", portrait), file(FieldImage2, "b.jpg", congress))...)

	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, PathFaceMatch, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			if _, err := ParseRequest(req, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	run := func(b *testing.B, m Matcher) {
		_, ts, _ := newTestServer(b, m, &Options{MaxConcurrent: 1 << 10})
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			resp, err := http.Post(ts.URL+PathFaceMatch, ct, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	}
	b.Run("loopback/fake", func(b *testing.B) { run(b, &fakeMatcher{res: matchResult(90)}) })
	b.Run("loopback/real", func(b *testing.B) { run(b, realMatcher(b, false)) })
}
