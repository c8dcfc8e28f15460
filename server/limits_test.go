package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/internal/fetch"
	"github.com/facematch/facematch/internal/imageio"
)

// The smaller points of issue 11, one test each.

func TestThresholdDecimalOnly(t *testing.T) {
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	img := smallPNG(t)
	for _, v := range []string{"0x1.6666666666666p-1", "0X1P-1", "Inf", "NaN", "0_8", "+", "."} {
		ct, body := multipartBody(t, append(validFields(), field(FieldThreshold, v), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
		e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
		if e.status != CodeInvalidThreshold.Status || e.ResponseCode != CodeInvalidThreshold.ResponseCode {
			t.Errorf("threshold %q: HTTP %d %s, want %s", v, e.status, e.ResponseCode, CodeInvalidThreshold.ResponseCode)
		}
	}
	for _, v := range []string{"0.8", ".85", "8e-1", "+0.75", "0.70"} {
		ct, body := multipartBody(t, append(validFields(), field(FieldThreshold, v), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
		if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
			t.Errorf("threshold %q: HTTP %d %s", v, e.status, e.Message)
		}
	}
}

// TestUncleanPathEnvelope: "//v2/…" and other unclean paths are answered in
// the JSON envelope (404), not with an empty redirect.
func TestUncleanPathEnvelope(t *testing.T) {
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/" + PathFaceMatch, "/v2/kyc/../kyc/forensics/face_match", PathHealth + "/", "/v2//kyc/forensics/face_match"} {
		resp, err := client.Post(ts.URL+p, "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		e := decode(t, resp)
		resp.Body.Close()
		expectCode(t, e, CodeNotFound)
	}
}

// TestHeaderErrorEnvelope: a header sent too slowly (or malformed) is
// answered by net/http itself; WrapListener turns its plain-text 400 into
// the JSON envelope.
func TestHeaderErrorEnvelope(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer("", New(&fakeMatcher{res: matchResult(90)}, nil), 0)
	hs.ReadHeaderTimeout = 200 * time.Millisecond
	go func() { _ = hs.Serve(WrapListener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	for name, head := range map[string]string{
		"slow header": "POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nX-Slow",
		"bad header":  "POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write([]byte(head))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		e := decode(t, resp)
		if e.status != 400 || e.ResponseCode != CodeInvalidRequest.ResponseCode || e.Status != "FAILURE" {
			t.Errorf("%s: %d %+v", name, e.status, e.Response)
		}
		c.Close()
	}
}

// TestReferenceIDLoggedWhole: a valid reference_id of 100 two-byte
// characters is logged whole (the cut is at 100 characters, not bytes).
func TestReferenceIDLoggedWhole(t *testing.T) {
	_, ts, lb := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	ref := strings.Repeat("é", MaxReferenceIDLen)
	img := smallPNG(t)
	ct, body := multipartBody(t, field(FieldReferenceID, ref), field(FieldConsent, "Y"), field(FieldConsentPurpose, "kyc"),
		file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatalf("%d %+v", e.status, e.Response)
	}
	lines := lb.lines(t)
	if got := lines[len(lines)-1]["reference_id"]; got != ref {
		t.Fatalf("logged reference_id %q, want the whole %d characters", got, MaxReferenceIDLen)
	}
	if got := truncateRunes(strings.Repeat("é", 150), 100); got != ref+"…" {
		t.Fatalf("truncateRunes cut to %d bytes", len(got))
	}
}

// TestUnauthenticatedGET: credentials are checked before the method, so an
// unauthenticated client learns nothing of the endpoint (documented order:
// 401, then 405).
func TestUnauthenticatedGET(t *testing.T) {
	_, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{ClientID: "id", ClientSecret: "secret"})
	resp, err := http.Get(ts.URL + PathFaceMatch)
	if err != nil {
		t.Fatal(err)
	}
	e := decode(t, resp)
	resp.Body.Close()
	expectCode(t, e, CodeUnauthorized)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+PathFaceMatch, nil)
	req.Header["client_id"] = []string{"id"}
	req.Header["client_secret"] = []string{"secret"}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	e = decode(t, resp)
	resp.Body.Close()
	expectCode(t, e, CodeMethodNotAllowed)
}

// TestURLsLoggedWithoutSecrets: pre-signed query strings, credentials and
// fragments never reach the log.
func TestURLsLoggedWithoutSecrets(t *testing.T) {
	_, ts, lb := newTestServer(t, &fakeMatcher{err: &facematch.ImageError{Image: 1, Err: errors.New("boom")}}, nil)
	u := "https://bucket.example/a/photo.jpg?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA#frag"
	ct, body := multipartBody(t, append(validFields(), field(FieldImage1, u), field(FieldImage2, u))...)
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeInternal)
	log := lb.String()
	for _, secret := range []string{"deadbeef", "AKIA", "frag", "Signature"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, "https://bucket.example/a/photo.jpg") {
		t.Errorf("log lacks the redacted URL:\n%s", log)
	}
}

// slowMatcher fetches URLs slowly (as a dripping server would) and
// compares at once; it prices images as the real Matcher does.
type slowMatcher struct {
	fakeMatcher
	fetchDelay time.Duration
	cost       int64 // DecodeCost of every image (0 = imageio's estimate)
	fetching   atomic.Int32
}

func (m *slowMatcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	m.fetching.Add(1)
	defer m.fetching.Add(-1)
	select {
	case <-time.After(m.fetchDelay):
		return nil, facematch.ErrFetchTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *slowMatcher) DecodeCost(b []byte) (int64, error) { return m.cost, nil }

// TestFetchHoldsNoSlot: two requests whose URLs drip hold fetch places, not
// the compare slots; uploads are served meanwhile.
func TestFetchHoldsNoSlot(t *testing.T) {
	m := &slowMatcher{fakeMatcher: fakeMatcher{res: matchResult(90)}, fetchDelay: 3 * time.Second, cost: 1}
	s, ts, _ := newTestServer(t, m, &Options{MaxConcurrent: 1})
	ctURL, bodyURL := multipartBody(t, append(validFields(), field(FieldImage1, "https://slow.example/a.jpg"), field(FieldImage2, "https://slow.example/b.jpg"))...)
	done := make(chan *envelope, 2)
	for range 2 {
		go func() { done <- post(t, ts.URL+PathFaceMatch, ctURL, bodyURL, nil) }()
	}
	deadline := time.Now().Add(2 * time.Second)
	for m.fetching.Load() != 4 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if m.fetching.Load() != 4 || s.adm.inUse.Load() != 0 {
		t.Fatalf("%d fetches, %d slots in use; want 4, 0", m.fetching.Load(), s.adm.inUse.Load())
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	start := time.Now()
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatalf("upload behind slow URLs: %d %+v", e.status, e.Response)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("upload behind slow URLs took %v", d)
	}
	for range 2 {
		expectCode(t, <-done, CodeFetchTimeout)
	}
}

// TestMemoryBudget: a request that alone exceeds the budget is refused
// with a clear 422; requests that fit together run, the others wait.
func TestMemoryBudget(t *testing.T) {
	m := &slowMatcher{fakeMatcher: fakeMatcher{res: matchResult(90)}, cost: 60}
	s, ts, _ := newTestServer(t, m, &Options{MaxConcurrent: 4, MemoryBudget: 100, BodyBudget: 1 << 30})
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	// Two images of 60 = 120 > 100.
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeImageDimensions)
	if !strings.Contains(e.Message, "memory") {
		t.Errorf("message %q does not say why", e.Message)
	}
	m.cost = 30 // 60 per request: one at a time fits
	entered := make(chan struct{}, 2)
	unblock := make(chan struct{})
	s.compare = func(ctx context.Context, _ Matcher, req *Request) (*facematch.Result, error) {
		entered <- struct{}{}
		<-unblock
		return matchResult(90), nil
	}
	done := make(chan *envelope, 2)
	for range 2 {
		go func() { done <- post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
	}
	<-entered
	deadline := time.Now().Add(2 * time.Second)
	for s.adm.waiting.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	if s.adm.waiting.Load() != 1 || s.adm.memInUse.Load() != 60 || s.adm.inUse.Load() != 1 {
		t.Fatalf("waiting %d, memory %d, slots %d; want 1, 60, 1", s.adm.waiting.Load(), s.adm.memInUse.Load(), s.adm.inUse.Load())
	}
	close(unblock)
	for range 2 {
		if e := <-done; e.status != 200 {
			t.Fatalf("%d %+v", e.status, e.Response)
		}
	}
	if s.adm.memInUse.Load() != 0 {
		t.Fatalf("memory still charged: %d", s.adm.memInUse.Load())
	}
}

// TestSlowBodyCut: a body dripping below the minimum rate is cut after the
// grace period and answered 408 in the envelope, freeing its place.
func TestSlowBodyCut(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MinUploadRate: 1000, UploadGrace: 200 * time.Millisecond})
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte("POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"))
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte every 100 ms: 10 B/s
		for i := 0; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := c.Write(body[i : i+1]); err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := decode(t, resp)
	expectCode(t, e, CodeBodyTimeout)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cut after %v", d)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(s.uploads) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(s.uploads) != 0 {
		t.Fatal("the slow body still holds its place")
	}
}

func TestMaxPerClient(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxPerClient: 1})
	entered := make(chan struct{})
	unblock := make(chan struct{})
	var calls atomic.Int32
	s.compare = func(ctx context.Context, _ Matcher, req *Request) (*facematch.Result, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-unblock
		}
		return matchResult(90), nil
	}
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	first := make(chan *envelope, 1)
	go func() { first <- post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
	<-entered
	expectCode(t, post(t, ts.URL+PathFaceMatch, ct, body, nil), CodeOverloaded)
	close(unblock)
	if e := <-first; e.status != 200 {
		t.Fatal(e.status)
	}
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatal(e.status)
	}
}

func TestMetrics(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, nil)
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatal(e.status)
	}
	expectCode(t, post(t, ts.URL+PathFaceMatch, "text/plain", []byte("x"), nil), CodeUnsupportedContent)
	s.ObserveStage(facematch.StageDecode, 3*time.Millisecond)
	resp, err := http.Get(ts.URL + PathMetrics)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`facematch_requests_total{response_code="S00000"} 1`,
		`facematch_requests_total{response_code="E00022"} 1`,
		`facematch_stage_duration_seconds_count{stage="total"} 2`,
		`facematch_stage_duration_seconds_count{stage="decode"} 1`,
		`facematch_queue_wait_seconds_count 1`,
		"facematch_in_flight 0",
		"facematch_queue_length 0",
		"facematch_memory_budget_bytes",
		"facematch_memory_in_use_bytes 0",
		"go_goroutines",
		"go_memstats_heap_inuse_bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMemoryBudgetFor(t *testing.T) {
	if got := MemoryBudgetFor(0); got != DefaultMemoryBudget {
		t.Errorf("no limit: %d", got)
	}
	if got := MemoryBudgetFor(2 << 30); got != 1<<30 {
		t.Errorf("2 GiB limit: %d", got)
	}
	if got := MemoryBudgetFor(100 << 20); got != 128<<20 {
		t.Errorf("100 MiB limit: %d", got)
	}
}

// estimatingMatcher prices images as the real Matcher does and fetches
// with the real URL policy (private destinations refused).
type estimatingMatcher struct {
	fakeMatcher
	client *fetch.Client
}

func (m *estimatingMatcher) DecodeCost(b []byte) (int64, error) {
	c, err := imageio.Estimate(b, nil)
	return c.Bytes, err
}

func (m *estimatingMatcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	return m.client.Get(ctx, rawURL)
}

// TestArithmeticJPEG415: an arithmetic-coded JPEG is unsupported (415),
// not corrupt, and is refused from its header.
func TestArithmeticJPEG415(t *testing.T) {
	_, ts, _ := newTestServer(t, &estimatingMatcher{fakeMatcher: fakeMatcher{res: matchResult(90)}, client: fetch.New(fetch.Config{})}, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 32, 32)), nil); err != nil {
		t.Fatal(err)
	}
	arith := buf.Bytes()
	i := bytes.Index(arith, []byte{0xFF, 0xC0})
	arith[i+1] = 0xC9 // SOF9: extended sequential, arithmetic coding
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.jpg", arith), file(FieldImage2, "b.png", smallPNG(t)))...)
	e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
	expectCode(t, e, CodeUnsupportedFormat)
	if !strings.HasPrefix(e.Message, "image1") {
		t.Errorf("message %q does not name image1", e.Message)
	}
}

// TestNumericHostsForbidden: the numeric forms of 127.0.0.1 and
// "localhost." get the forbidden-URL code, not a fetch failure.
func TestNumericHostsForbidden(t *testing.T) {
	_, ts, _ := newTestServer(t, &estimatingMatcher{fakeMatcher: fakeMatcher{res: matchResult(90)}, client: fetch.New(fetch.Config{})}, nil)
	for _, u := range []string{"http://2130706433/a.jpg", "http://0x7f000001/a.jpg", "http://0177.0.0.1/a.jpg", "http://127.1/a.jpg", "http://localhost./a.jpg", "http://[::ffff:0:7f00:1]/a.jpg", "http://[fec0::1]/a.jpg", "http://192.88.99.1/a.jpg"} {
		ct, body := multipartBody(t, append(validFields(), field(FieldImage1, u), file(FieldImage2, "b.png", smallPNG(t)))...)
		e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
		if e.ResponseCode != CodeForbiddenURL.ResponseCode {
			t.Errorf("%s: %d %s %q, want %s", u, e.status, e.ResponseCode, e.Message, CodeForbiddenURL.ResponseCode)
		}
	}
}

// TestBodyBudget: bodies are reserved by Content-Length before they are
// read; one that does not fit is refused at once, and the reservation is
// given back after the request.
func TestBodyBudget(t *testing.T) {
	img := smallPNG(t)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{BodyBudget: int64(len(body)) + 10})
	entered := make(chan struct{})
	unblock := make(chan struct{})
	var calls atomic.Int32
	s.compare = func(ctx context.Context, _ Matcher, req *Request) (*facematch.Result, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-unblock
		}
		return matchResult(90), nil
	}
	first := make(chan *envelope, 1)
	go func() { first <- post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
	<-entered
	if got := s.bodyInUse.Load(); got != int64(len(body)) {
		t.Fatalf("reserved %d bytes, want %d", got, len(body))
	}
	expectCode(t, post(t, ts.URL+PathFaceMatch, ct, body, nil), CodeOverloaded)
	close(unblock)
	if e := <-first; e.status != 200 {
		t.Fatal(e.status)
	}
	if e := post(t, ts.URL+PathFaceMatch, ct, body, nil); e.status != 200 {
		t.Fatal(e.status)
	}
	if s.bodyInUse.Load() != 0 {
		t.Fatalf("%d bytes still reserved", s.bodyInUse.Load())
	}
}
