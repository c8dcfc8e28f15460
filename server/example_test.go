package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/server"
)

// stubMatcher stands in for *facematch.Matcher so the example runs without
// models; a real service passes the result of facematch.New.
type stubMatcher struct{}

func (stubMatcher) Compare(ctx context.Context, a, b facematch.Source, o *facematch.CompareOptions) (*facematch.Result, error) {
	return &facematch.Result{Match: true, Percentage: 95, Similarity: 0.71, Threshold: o.Threshold}, nil
}

// Mount the handler and send one request with two URL images.
func Example() {
	h := server.New(stubMatcher{}, &server.Options{
		MaxConcurrent: 4,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ts := httptest.NewServer(h)
	defer ts.Close()

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("reference_id", "customer-42")
	_ = mw.WriteField("consent", "Y")
	_ = mw.WriteField("consent_purpose", "account opening")
	_ = mw.WriteField("image1", "https://example.com/id-card.jpg")
	_ = mw.WriteField("image2", "https://example.com/selfie.jpg")
	_ = mw.Close()

	resp, err := http.Post(ts.URL+server.PathFaceMatch, mw.FormDataContentType(), &body)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var r server.Response
	_ = json.NewDecoder(resp.Body).Decode(&r)
	fmt.Println(resp.StatusCode, r.Status, r.ResponseCode, r.ResponseKey)
	fmt.Println(r.Data.Match, r.Data.IsMatch, r.Data.Threshold)
	// Output:
	// 200 SUCCESS S00000 success_face_scan
	// 95.00% true 0.7
}
