package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facematch/facematch"
)

// part is one part of a multipart test body.
type part struct {
	name        string
	filename    string // non-empty: a file part
	contentType string
	data        []byte
}

func field(name, value string) part { return part{name: name, data: []byte(value)} }

func file(name, filename string, data []byte) part {
	return part{name: name, filename: filename, contentType: "application/octet-stream", data: data}
}

// multipartBody encodes parts as multipart/form-data.
func multipartBody(t testing.TB, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := fmt.Sprintf(`form-data; name=%q`, p.name)
		if p.filename != "" {
			cd += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.Bytes()
}

// validFields are the text fields of a valid request.
func validFields() []part {
	return []part{
		field(FieldReferenceID, "ref-001"),
		field(FieldConsent, "Y"),
		field(FieldConsentPurpose, "KYC onboarding"),
	}
}

// smallPNG is a real, decodable 32x24 PNG.
func smallPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := 0; y < 24; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, color.RGBA{uint8(8 * x), uint8(10 * y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeMatcher returns a scripted result or error; it never looks at images
// (facematch.Source is opaque). Tests that need the parsed images replace
// Server.compare instead.
type fakeMatcher struct {
	res *facematch.Result
	err error
}

func (f *fakeMatcher) Compare(ctx context.Context, a, b facematch.Source, o *facematch.CompareOptions) (*facematch.Result, error) {
	if f.err != nil {
		return nil, f.err
	}
	r := *f.res
	if o != nil && o.Threshold != 0 {
		r.Threshold = o.Threshold
		r.Match = r.Percentage/100 >= o.Threshold
	}
	return &r, nil
}

func matchResult(pct float64) *facematch.Result {
	return &facematch.Result{Match: pct/100 >= 0.70, Percentage: pct, Similarity: 0.5, Threshold: 0.70}
}

// envelope is the decoded response, with the raw keys kept to check the
// exact shape.
type envelope struct {
	Response
	raw    map[string]json.RawMessage
	status int
	header http.Header
}

func post(t testing.TB, url, contentType string, body []byte, hdr map[string]string) *envelope {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v} // keep underscores as sent
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return decode(t, resp)
}

func decode(t testing.TB, resp *http.Response) *envelope {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	e := &envelope{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(b, &e.Response); err != nil {
		t.Fatalf("status %d: body is not JSON: %v\n%s", resp.StatusCode, err, b)
	}
	if err := json.Unmarshal(b, &e.raw); err != nil {
		t.Fatal(err)
	}
	return e
}

// expectCode checks a failure envelope against a table row.
func expectCode(t testing.TB, e *envelope, c Code) {
	t.Helper()
	if e.status != c.Status || e.ResponseCode != c.ResponseCode || e.ResponseKey != c.ResponseKey || e.Status != "FAILURE" {
		t.Fatalf("got HTTP %d %s %s %s %q; want HTTP %d %s %s FAILURE",
			e.status, e.Status, e.ResponseCode, e.ResponseKey, e.Message, c.Status, c.ResponseCode, c.ResponseKey)
	}
	if e.Data != nil {
		t.Errorf("failure carries data: %+v", e.Data)
	}
	if !txnRE.MatchString(e.DecentroTxnID) {
		t.Errorf("decentroTxnId %q is not a UUID", e.DecentroTxnID)
	}
	if e.Message == "" {
		t.Error("empty message")
	}
}

// logBuffer is a concurrency-safe buffer for a JSON slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ln := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if ln == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", ln)
		}
		out = append(out, m)
	}
	return out
}

// newTestServer starts the handler on a loopback listener.
func newTestServer(t testing.TB, m Matcher, o *Options) (*Server, *httptest.Server, *logBuffer) {
	t.Helper()
	lb := &logBuffer{}
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(lb, nil))
	}
	s := New(m, &opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts, lb
}

// settleGoroutines waits until the goroutine count drops to at most base
// (plus slack), failing the test after a few seconds.
func settleGoroutines(t testing.TB, base, slack int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base+slack {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines did not settle: %d now, %d before\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
