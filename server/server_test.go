package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facematch/facematch"
)

var txnRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSuccessEnvelope(t *testing.T) {
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(95)}, nil)
	pngData := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(),
		file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData))...)
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	if e.status != http.StatusOK {
		t.Fatalf("status %d: %+v", e.status, e.Response)
	}
	// Exactly the keys of the contract.
	var keys []string
	for k := range e.raw {
		keys = append(keys, k)
	}
	if len(keys) != 6 {
		t.Errorf("top-level keys %v, want 6", keys)
	}
	var data map[string]any
	if err := json.Unmarshal(e.raw["data"], &data); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"status": "SUCCESS", "match": "95.00%", "isMatch": true, "threshold": 0.7,
		"multipleFaces": false, "faceCount": map[string]any{"image1": 0.0, "image2": 0.0},
		"orientation": map[string]any{"image1": 0.0, "image2": 0.0}}
	if fmt.Sprint(data) != fmt.Sprint(want) {
		t.Errorf("data = %v, want %v", data, want)
	}
	if e.Status != "SUCCESS" || e.ResponseCode != "S00000" || e.ResponseKey != "success_face_scan" ||
		e.Message != "Face scan completed successfully." {
		t.Errorf("envelope %+v", e.Response)
	}
	if !txnRE.MatchString(e.DecentroTxnID) || e.header.Get("X-Request-Id") != e.DecentroTxnID {
		t.Errorf("txn id %q, header %q", e.DecentroTxnID, e.header.Get("X-Request-Id"))
	}
	if ct := e.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}

	// Threshold given: echoed, verdict follows it.
	ct, body = multipartBody(t, append(validFields(), field(FieldThreshold, "0.95"),
		file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData))...)
	e = post(t, ts.URL+PathFaceMatch, ct, body, nil)
	if e.status != 200 || e.Data == nil || e.Data.IsMatch != true || e.Data.Threshold != 0.95 {
		t.Fatalf("threshold 0.95, 95%%: %d %+v %+v", e.status, e.Response, e.Data)
	}
	ct, body = multipartBody(t, append(validFields(), field(FieldThreshold, "0.951"),
		file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData))...)
	e = post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeInvalidThreshold)
}

func TestNoMatchIsStillSuccess(t *testing.T) {
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(12.345)}, nil)
	pngData := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(),
		file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData))...)
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	if e.status != 200 || e.Status != "SUCCESS" || e.Data.Status != "SUCCESS" || e.Data.IsMatch || e.Data.Match != "12.35%" {
		t.Fatalf("%d %+v %+v", e.status, e.Response, e.Data)
	}
}

func TestTxnIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newTxnID()
		if !txnRE.MatchString(id) {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

// TestImageKinds checks that uploads and URLs reach the matcher as such,
// in every combination.
func TestImageKinds(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	var mu sync.Mutex
	var got *Request
	s.compare = func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error) {
		mu.Lock()
		got = req
		mu.Unlock()
		return matchResult(90), nil
	}
	pngData := smallPNG(t)
	const u1, u2 = "https://example.com/id.jpg", "http://example.org/selfie.png?x=1"
	tests := []struct {
		name       string
		img1, img2 part
		want1      Image
		want2      Image
	}{
		{"two uploads", file(FieldImage1, "a.png", pngData), file(FieldImage2, "b.png", pngData[:10]), Image{Data: pngData}, Image{Data: pngData[:10]}},
		{"two URLs", field(FieldImage1, u1), field(FieldImage2, u2), Image{URL: u1}, Image{URL: u2}},
		{"URL then upload", field(FieldImage1, " "+u1+"\n"), file(FieldImage2, "b.png", pngData), Image{URL: u1}, Image{Data: pngData}},
		{"upload then URL", file(FieldImage1, "a.png", pngData), field(FieldImage2, u2), Image{Data: pngData}, Image{URL: u2}},
		{"upload without filename but image content type", part{name: FieldImage1, contentType: "image/png", data: pngData}, field(FieldImage2, u2), Image{Data: pngData}, Image{URL: u2}},
		{"raw PNG bytes in a plain field", part{name: FieldImage1, data: pngData}, field(FieldImage2, u2), Image{Data: pngData}, Image{URL: u2}},
		{"0-byte upload reaches the matcher", file(FieldImage1, "a.png", nil), field(FieldImage2, u2), Image{Data: []byte{}}, Image{URL: u2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Images first, fields last: order must not matter.
			ct, body := multipartBody(t, append([]part{tt.img2, tt.img1}, validFields()...)...)
			e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
			if e.status != 200 {
				t.Fatalf("status %d %+v", e.status, e.Response)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.Image1.URL != tt.want1.URL || !bytes.Equal(got.Image1.Data, tt.want1.Data) ||
				got.Image2.URL != tt.want2.URL || !bytes.Equal(got.Image2.Data, tt.want2.Data) {
				t.Errorf("images: got %s/%q %s/%q", got.Image1.Kind(), got.Image1.URL, got.Image2.Kind(), got.Image2.URL)
			}
			if (tt.want1.URL == "") != (got.Image1.Kind() == "upload") {
				t.Errorf("image1 kind %s", got.Image1.Kind())
			}
			if got.ReferenceID != "ref-001" || got.ConsentPurpose != "KYC onboarding" || got.Threshold != 0.70 {
				t.Errorf("fields %+v", got)
			}
		})
	}
}

// TestRequestErrors covers every request-validation error path on a real
// loopback server.
func TestRequestErrors(t *testing.T) {
	const maxImage = 64 << 10
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxImageBytes: maxImage})
	img := smallPNG(t)
	imgs := []part{file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img)}
	with := func(fields []part, extra ...part) []part {
		return append(append(append([]part{}, fields...), imgs...), extra...)
	}
	fieldsExcept := func(name string, repl ...part) []part {
		var out []part
		for _, p := range validFields() {
			if p.name != name {
				out = append(out, p)
			}
		}
		return append(out, repl...)
	}
	tests := []struct {
		name  string
		parts []part
		want  Code
		msg   string // substring of the message
	}{
		{"missing reference_id", with(fieldsExcept(FieldReferenceID)), CodeMissingField, "reference_id"},
		{"blank reference_id", with(fieldsExcept(FieldReferenceID, field(FieldReferenceID, "  "))), CodeMissingField, "reference_id"},
		{"reference_id 101 chars", with(fieldsExcept(FieldReferenceID, field(FieldReferenceID, strings.Repeat("r", 101)))), CodeInvalidField, "100"},
		{"reference_id control char", with(fieldsExcept(FieldReferenceID, field(FieldReferenceID, "ab\x00c"))), CodeInvalidField, "printable"},
		{"reference_id newline", with(fieldsExcept(FieldReferenceID, field(FieldReferenceID, "a\nb"))), CodeInvalidField, "printable"},
		{"reference_id invalid UTF-8", with(fieldsExcept(FieldReferenceID, field(FieldReferenceID, "a\xffb"))), CodeInvalidField, "UTF-8"},
		{"reference_id huge", with(fieldsExcept(FieldReferenceID, field(FieldReferenceID, strings.Repeat("r", 10000)))), CodeInvalidField, "too long"},
		{"reference_id twice", with(validFields(), field(FieldReferenceID, "again")), CodeInvalidField, "more than once"},
		{"missing consent", with(fieldsExcept(FieldConsent)), CodeConsentRequired, "consent"},
		{"consent N", with(fieldsExcept(FieldConsent, field(FieldConsent, "N"))), CodeConsentRequired, "Y or y"},
		{"consent yes", with(fieldsExcept(FieldConsent, field(FieldConsent, "yes"))), CodeConsentRequired, "Y or y"},
		{"consent true", with(fieldsExcept(FieldConsent, field(FieldConsent, "true"))), CodeConsentRequired, "Y or y"},
		{"consent empty", with(fieldsExcept(FieldConsent, field(FieldConsent, ""))), CodeConsentRequired, "Y or y"},
		{"missing consent_purpose", with(fieldsExcept(FieldConsentPurpose)), CodeMissingField, "consent_purpose"},
		{"consent_purpose 201 chars", with(fieldsExcept(FieldConsentPurpose, field(FieldConsentPurpose, strings.Repeat("p", 201)))), CodeInvalidField, "200"},
		{"threshold 0.5", with(validFields(), field(FieldThreshold, "0.5")), CodeInvalidThreshold, "0.70"},
		{"threshold 0.99", with(validFields(), field(FieldThreshold, "0.99")), CodeInvalidThreshold, "0.95"},
		{"threshold 0.6999", with(validFields(), field(FieldThreshold, "0.6999")), CodeInvalidThreshold, "0.70"},
		{"threshold 70", with(validFields(), field(FieldThreshold, "70")), CodeInvalidThreshold, "0.70"},
		{"threshold NaN", with(validFields(), field(FieldThreshold, "NaN")), CodeInvalidThreshold, "0.70"},
		{"threshold text", with(validFields(), field(FieldThreshold, "high")), CodeInvalidThreshold, "high"},
		{"missing image1", append(validFields(), imgs[1]), CodeMissingField, "image1"},
		{"missing image2", append(validFields(), imgs[0]), CodeMissingField, "image2"},
		{"empty image2 field", append(validFields(), imgs[0], field(FieldImage2, "")), CodeMissingField, "image2"},
		{"image1 twice", with(validFields(), file(FieldImage1, "c.png", img)), CodeInvalidField, "more than once"},
		{"image2 text not a URL", append(validFields(), imgs[0], field(FieldImage2, "hello world")), CodeInvalidURL, "image2"},
		{"image1 ftp URL", append(validFields(), field(FieldImage1, "ftp://example.com/a.jpg"), imgs[1]), CodeInvalidURL, "image1"},
		{"image1 file URL", append(validFields(), field(FieldImage1, "file:///etc/passwd"), imgs[1]), CodeInvalidURL, "http"},
		{"image2 URL without host", append(validFields(), imgs[0], field(FieldImage2, "http:///x.jpg")), CodeInvalidURL, "host"},
		{"image2 URL with credentials", append(validFields(), imgs[0], field(FieldImage2, "http://u:p@example.com/x.jpg")), CodeInvalidURL, "credentials"},
		{"image2 URL too long", append(validFields(), imgs[0], field(FieldImage2, "http://example.com/"+strings.Repeat("a", 3000))), CodeInvalidField, "image2"},
		{"image1 over cap", append(validFields(), file(FieldImage1, "big.jpg", make([]byte, maxImage+1)), imgs[1]), CodeTooLarge, "image1"},
		{"image2 over cap", append(validFields(), imgs[0], file(FieldImage2, "big.jpg", make([]byte, maxImage+1))), CodeTooLarge, "image2"},
		{"body over cap via unknown parts", with(validFields(), file("junk", "j", make([]byte, BodyLimit(maxImage)))), CodeTooLarge, "body"},
		{"too many parts", with(validFields(), junkFields(maxParts)...), CodeInvalidRequest, "parts"},
		{"image11", with(validFields(), file("image3", "c.png", img), field("image11", "http://example.com/a.jpg")), CodeInvalidField, "at most 10"},
		{"image4 without image3", with(validFields(), file("image4", "d.png", img)), CodeMissingField, "image3"},
		{"image3 twice", with(validFields(), file("image3", "c.png", img), field("image3", "http://example.com/a.jpg")), CodeInvalidField, "image3 is given more than once"},
		{"image3 over cap", with(validFields(), file("image3", "big.jpg", make([]byte, maxImage+1))), CodeTooLarge, "image3"},
		{"image3 not a URL", with(validFields(), field("image3", "hello")), CodeInvalidURL, "image3"},
		{"body over the three-image cap", with(validFields(), file("image3", "c.png", img), file("junk", "j", make([]byte, BodyLimit(maxImage)+maxImage))), CodeTooLarge, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := multipartBody(t, tt.parts...)
			e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
			expectCode(t, e, tt.want)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	ct, body := multipartBody(t, validFields()...)
	tests := []struct {
		name   string
		method string
		path   string
		ct     string
		body   []byte
		want   Code
	}{
		{"GET", http.MethodGet, PathFaceMatch, "", nil, CodeMethodNotAllowed},
		{"PUT", http.MethodPut, PathFaceMatch, ct, body, CodeMethodNotAllowed},
		{"unknown path", http.MethodPost, "/v1/face_match", ct, body, CodeNotFound},
		{"JSON body", http.MethodPost, PathFaceMatch, "application/json", []byte(`{"image1":"x"}`), CodeUnsupportedContent},
		{"no content type", http.MethodPost, PathFaceMatch, "", body, CodeUnsupportedContent},
		{"urlencoded", http.MethodPost, PathFaceMatch, "application/x-www-form-urlencoded", []byte("consent=Y"), CodeUnsupportedContent},
		{"multipart without boundary", http.MethodPost, PathFaceMatch, "multipart/form-data", body, CodeInvalidRequest},
		{"wrong boundary", http.MethodPost, PathFaceMatch, "multipart/form-data; boundary=nope", body, CodeInvalidRequest},
		{"truncated multipart", http.MethodPost, PathFaceMatch, ct, body[:len(body)/2], CodeInvalidRequest},
		{"empty body", http.MethodPost, PathFaceMatch, ct, nil, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, ts.URL+tt.path, bytes.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			expectCode(t, decode(t, resp), tt.want)
		})
	}
}

// TestMatcherErrors checks the mapping of every facematch error to the
// table, including which image it names.
func TestMatcherErrors(t *testing.T) {
	m := &fakeMatcher{}
	_, ts, lb := newTestServer(t, m, nil)
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	img2 := func(err error) error { return fmt.Errorf("facematch: %w", &facematch.ImageError{Image: 2, Err: err}) }
	img1 := func(err error) error { return &facematch.ImageError{Image: 1, Err: fmt.Errorf("detail: %w", err)} }
	tests := []struct {
		err  error
		want Code
		msg  string
	}{
		{img2(facematch.ErrNoFace), CodeNoFace, "image2"},
		{img1(facematch.ErrNoFace), CodeNoFace, "image1"},
		{img1(facematch.ErrTooLarge), CodeTooLarge, "image1"},
		{img2(facematch.ErrImageTooLarge), CodeImageDimensions, "image2"},
		{img1(facematch.ErrUnsupportedFormat), CodeUnsupportedFormat, "image1"},
		{img2(facematch.ErrCorruptImage), CodeCorruptImage, "image2"},
		{fmt.Errorf("x: %w", facematch.ErrInvalidThreshold), CodeInvalidThreshold, "0.70"},
		{img1(facematch.ErrForbiddenURL), CodeForbiddenURL, "image1"},
		{img2(facematch.ErrInvalidURL), CodeInvalidURL, "image2"},
		{img1(facematch.ErrFetch), CodeFetchFailed, "image1"},
		{img2(facematch.ErrFetchTimeout), CodeFetchTimeout, "image2"},
		{img2(fmt.Errorf("%w: %w", facematch.ErrFetchTimeout, facematch.ErrFetch)), CodeFetchTimeout, "image2"},
		{context.DeadlineExceeded, CodeTimeout, "too long"},
		{errors.New("secret internal detail /etc/x"), CodeInternal, "Internal server error."},
	}
	for _, tt := range tests {
		t.Run(tt.want.ResponseKey+"/"+tt.msg, func(t *testing.T) {
			m.err = tt.err
			e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
			expectCode(t, e, tt.want)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
			if strings.Contains(e.Message, "detail") || strings.Contains(e.Message, "secret") {
				t.Errorf("message leaks internal detail: %q", e.Message)
			}
			if tt.want.Status == http.StatusServiceUnavailable && e.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	// The internal error's detail is logged (for the operator), at error level.
	if !strings.Contains(lb.String(), "secret internal detail") {
		t.Error("internal error detail not logged")
	}
}

func TestMatcherPanic(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(1)}, &Options{MaxConcurrent: 1})
	s.compare = func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error) {
		panic("boom")
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	for range 3 { // the slot is released each time
		e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
		expectCode(t, e, CodeInternal)
		if e.Message != CodeInternal.Message {
			t.Errorf("message %q", e.Message)
		}
	}
}

func TestCredentials(t *testing.T) {
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	_, open, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	if e := post(t, open.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatalf("no credentials configured: status %d", e.status)
	}
	_, ts, lb := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{ClientID: "acme", ClientSecret: "s3cr3t-value"})
	tests := []struct {
		name string
		hdr  map[string]string
		ok   bool
	}{
		{"none", nil, false},
		{"id only", map[string]string{"client_id": "acme"}, false},
		{"wrong secret", map[string]string{"client_id": "acme", "client_secret": "s3cr3t-valuf"}, false},
		{"secret prefix", map[string]string{"client_id": "acme", "client_secret": "s3cr3t"}, false},
		{"wrong id", map[string]string{"client_id": "acme2", "client_secret": "s3cr3t-value"}, false},
		{"swapped", map[string]string{"client_id": "s3cr3t-value", "client_secret": "acme"}, false},
		{"right", map[string]string{"client_id": "acme", "client_secret": "s3cr3t-value"}, true},
		{"right, canonical header names", map[string]string{"Client_id": "acme", "Client_secret": "s3cr3t-value"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := post(t, ts.URL+PathFaceMatch, ct, body, tt.hdr)
			if tt.ok {
				if e.status != 200 {
					t.Fatalf("status %d %+v", e.status, e.Response)
				}
				return
			}
			expectCode(t, e, CodeUnauthorized)
		})
	}
	if strings.Contains(lb.String(), "s3cr3t") {
		t.Error("the secret appears in the log")
	}
}

// TestQueue: with the only slot busy, the next request waits in the queue
// and is served when the slot frees (no 503, no client retry); with the
// queue full, one more is refused at once with 503 and Retry-After; a wait
// longer than QueueTimeout is answered 503 with Retry-After.
func TestQueue(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxConcurrent: 1, MaxQueue: 1, RetryAfter: 2 * time.Second, QueueTimeout: 5 * time.Second})
	entered := make(chan struct{})
	unblock := make(chan struct{})
	var calls atomic.Int32
	s.compare = func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-unblock
		}
		return matchResult(90), nil
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	first, second := make(chan *envelope, 1), make(chan *envelope, 1)
	go func() { first <- post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
	<-entered
	go func() { second <- post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
	deadline := time.Now().Add(2 * time.Second)
	for s.adm.waiting.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if s.adm.waiting.Load() != 1 {
		t.Fatalf("queue length %d, want 1", s.adm.waiting.Load())
	}
	start := time.Now()
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	if d := time.Since(start); d > time.Second {
		t.Errorf("503 took %v", d)
	}
	expectCode(t, e, CodeOverloaded)
	if ra, _ := strconv.Atoi(e.header.Get("Retry-After")); ra < 2 {
		t.Errorf("Retry-After %q, want ≥ 2", e.header.Get("Retry-After"))
	}
	close(unblock)
	for i, ch := range []chan *envelope{first, second} {
		if e := <-ch; e.status != 200 {
			t.Fatalf("request %d: %d %+v", i+1, e.status, e.Response)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("%d comparisons, want 2", calls.Load())
	}
}

func TestQueueTimeout(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxConcurrent: 1, QueueTimeout: 100 * time.Millisecond})
	entered := make(chan struct{})
	unblock := make(chan struct{})
	defer close(unblock)
	var calls atomic.Int32
	s.compare = func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-unblock
		}
		return matchResult(90), nil
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	go func() { post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
	<-entered
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeOverloaded)
	if e.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestRequestTimeout(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxConcurrent: 1, RequestTimeout: 100 * time.Millisecond})
	release := make(chan struct{})
	var calls atomic.Int32
	s.compare = func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error) {
		if calls.Add(1) == 1 {
			<-release // ignores ctx on purpose
		}
		return matchResult(90), nil
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	start := time.Now()
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeTimeout)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout answer took %v", d)
	}
	if e.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// The slot is free again; the abandoned comparison still holds its
	// memory charge.
	if s.adm.inUse.Load() != 0 || s.abandoned.Load() != 1 || s.adm.memInUse.Load() == 0 {
		t.Fatalf("after the deadline: %d slots, %d abandoned, %d bytes charged; want 0, 1, > 0",
			s.adm.inUse.Load(), s.abandoned.Load(), s.adm.memInUse.Load())
	}
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatalf("next request: %d %+v", e.status, e.Response)
	}
	close(release)
	deadline := time.Now().Add(2 * time.Second)
	for (s.abandoned.Load() != 0 || s.adm.memInUse.Load() != 0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.abandoned.Load() != 0 || s.adm.memInUse.Load() != 0 {
		t.Fatalf("after release: %d abandoned, %d bytes charged", s.abandoned.Load(), s.adm.memInUse.Load())
	}
}

func TestHealthReady(t *testing.T) {
	s, ts, _ := newTestServer(t, nil, nil)
	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m["status"]
	}
	if c, st := get(PathHealth); c != 200 || st != "ok" {
		t.Errorf("healthz %d %q", c, st)
	}
	if c, st := get(PathReady); c != 503 || st != "loading" {
		t.Errorf("readyz before model %d %q", c, st)
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeNotReady)
	if e.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	s.SetMatcher(&fakeMatcher{res: matchResult(90)})
	if c, st := get(PathReady); c != 200 || st != "ready" {
		t.Errorf("readyz after model %d %q", c, st)
	}
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Errorf("after SetMatcher: %d", e.status)
	}
	resp, err := http.Get(ts.URL + PathOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(openAPI)) {
		t.Errorf("openapi: %d, %d bytes", resp.StatusCode, resp.ContentLength)
	}
}

// TestLogLine: one JSON line per request with txn, reference_id, outcome
// and latency; never image bytes.
func TestLogLine(t *testing.T) {
	_, ts, lb := newTestServer(t, &fakeMatcher{res: matchResult(88)}, nil)
	marker := []byte("IMAGE-BYTES-MARKER")
	img := append(smallPNG(t), marker...)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	e1 := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	ct, body = multipartBody(t, append(validFields(), field(FieldConsent, "n"), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	e2 := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	lines := lb.lines(t)
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), lb.String())
	}
	for i, want := range []struct {
		e       *envelope
		outcome string
		ref     string
	}{{e1, SuccessKey, "ref-001"}, {e2, CodeInvalidField.ResponseKey, "ref-001"}} {
		ln := lines[i]
		if ln["txn"] != want.e.DecentroTxnID || ln["outcome"] != want.outcome || ln["reference_id"] != want.ref {
			t.Errorf("line %d: %v", i, ln)
		}
		if _, ok := ln["latency_ms"].(float64); !ok {
			t.Errorf("line %d: no latency: %v", i, ln)
		}
	}
	if strings.Contains(lb.String(), string(marker)) {
		t.Error("image bytes in the log")
	}
}

// TestSlowUploaders: clients that send their body slowly hold upload slots
// only; a complete request is still compared, and once every upload slot
// is taken the next request is refused at once.
func TestSlowUploaders(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxConcurrent: 1, MaxQueue: 1, MaxUploads: 3})
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 2 {
		c, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		_, _ = c.Write([]byte("POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct +
			"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
		_, _ = c.Write(body[:100])
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(s.uploads) != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(s.uploads) != 2 {
		t.Fatalf("%d uploads in progress, want 2", len(s.uploads))
	}
	// The only compare slot is free: a complete request goes through.
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatalf("complete request behind slow uploaders: %d %+v", e.status, e.Response)
	}
	// Fill the last upload slot, then the next request is refused fast.
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conns = append(conns, c)
	_, _ = c.Write([]byte("POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
	for len(s.uploads) != 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeOverloaded)
	if d := time.Since(start); d > time.Second {
		t.Errorf("503 took %v", d)
	}
	// The slow clients finish: all three are answered.
	for i, c := range conns {
		if i < 2 {
			_, _ = c.Write(body[100:])
		} else {
			_, _ = c.Write(body)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("slow client %d: status %d", i, resp.StatusCode)
		}
	}
}

// TestCodeTable: responseCodes and responseKeys are unique, and the
// OpenAPI document publishes every row.
func TestCodeTable(t *testing.T) {
	codes, keys := map[string]bool{}, map[string]bool{}
	doc := string(openAPI)
	for _, c := range Codes() {
		if codes[c.ResponseCode] || keys[c.ResponseKey] {
			t.Errorf("duplicate %s / %s", c.ResponseCode, c.ResponseKey)
		}
		codes[c.ResponseCode], keys[c.ResponseKey] = true, true
		if !regexp.MustCompile(`^E\d{5}$`).MatchString(c.ResponseCode) || c.Status < 400 || c.Message == "" {
			t.Errorf("bad row %+v", c)
		}
		row := fmt.Sprintf("| %d | %s | %s |", c.Status, c.ResponseCode, c.ResponseKey)
		if !strings.Contains(doc, row) {
			t.Errorf("openapi.yaml lacks the row %q", row)
		}
	}
}

// junkFields returns n unknown text fields.
func junkFields(n int) []part {
	var out []part
	for i := range n {
		out = append(out, field(fmt.Sprintf("junk%d", i), "1"))
	}
	return out
}
