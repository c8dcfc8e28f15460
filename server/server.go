package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/facematch/facematch"
)

// Paths served by the handler.
const (
	PathFaceMatch = "/v2/kyc/forensics/face_match"
	PathHealth    = "/healthz"
	PathReady     = "/readyz"
	PathOpenAPI   = "/openapi.yaml"
)

// Credential headers checked when Options.ClientID/ClientSecret are set.
const (
	HeaderClientID     = "client_id"
	HeaderClientSecret = "client_secret"
)

// OpenAPI is the OpenAPI 3 document of the service (also served at
// PathOpenAPI).
//
//go:embed openapi.yaml
var OpenAPI []byte

// Matcher compares two images. *facematch.Matcher implements it; tests and
// applications can substitute their own.
type Matcher interface {
	Compare(ctx context.Context, image1, image2 facematch.Source, opts *facematch.CompareOptions) (*facematch.Result, error)
}

// Options configure the handler. The zero value (or nil) gives the defaults.
type Options struct {
	// MaxConcurrent is the number of face-match requests processed at
	// once; more get 503 with Retry-After at once. 0 = runtime.NumCPU().
	MaxConcurrent int
	// MaxUploads is the number of face-match requests admitted at once,
	// whether their body is still arriving or they are being compared.
	// More are refused with
	// 503 before their body is read, which bounds memory to about
	// MaxUploads × BodyLimit. Values below MaxConcurrent (0 included)
	// mean 4 × MaxConcurrent.
	MaxUploads int
	// MaxImageBytes caps each uploaded image. 0 = 6 MB. (The cap on URL
	// images is the Matcher's, facematch.Options.MaxImageBytes.)
	MaxImageBytes int64
	// RequestTimeout bounds the processing of one request (reading the
	// body excluded; the http.Server's ReadTimeout bounds that).
	// 0 = DefaultRequestTimeout.
	RequestTimeout time.Duration
	// RetryAfter is the Retry-After sent with 503. 0 = 1 s.
	RetryAfter time.Duration
	// ClientID and ClientSecret, when either is non-empty, are required in
	// the client_id and client_secret request headers (constant-time
	// comparison); otherwise 401.
	ClientID, ClientSecret string
	// Logger receives one line per request. nil = slog.Default().
	Logger *slog.Logger
}

// DefaultRequestTimeout bounds the processing of one request.
const DefaultRequestTimeout = 60 * time.Second

// Server is the http.Handler of the face-match service. It is safe for
// concurrent use.
type Server struct {
	matcher    atomic.Pointer[matcherBox]
	gallery    atomic.Pointer[galleryBox] // gallery endpoints (gallery.go)
	slots      chan struct{}              // compare slots (MaxConcurrent)
	uploads    chan struct{}              // requests admitted (MaxUploads)
	maxImage   int64
	timeout    time.Duration
	retryAfter string
	authOn     bool
	idSum      [32]byte
	secretSum  [32]byte
	log        *slog.Logger
	mux        *http.ServeMux

	// compare is Matcher.Compare on the request's images; tests replace it.
	compare func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error)
}

type matcherBox struct{ m Matcher }

// New returns the handler. m may be nil: the server then answers /readyz
// and face-match requests with 503 until SetMatcher is called, so a process
// can listen while its models load.
func New(m Matcher, opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = runtime.NumCPU()
	}
	if o.MaxUploads < o.MaxConcurrent {
		o.MaxUploads = 4 * o.MaxConcurrent
	}
	if o.MaxImageBytes <= 0 {
		o.MaxImageBytes = DefaultMaxImageBytes
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{
		slots:      make(chan struct{}, o.MaxConcurrent),
		uploads:    make(chan struct{}, o.MaxUploads),
		maxImage:   o.MaxImageBytes,
		timeout:    o.RequestTimeout,
		retryAfter: strconv.Itoa(int(math.Ceil(o.RetryAfter.Seconds()))),
		log:        o.Logger,
		compare:    defaultCompare,
	}
	if o.ClientID != "" || o.ClientSecret != "" {
		s.authOn = true
		s.idSum = sha256.Sum256([]byte(o.ClientID))
		s.secretSum = sha256.Sum256([]byte(o.ClientSecret))
	}
	if m != nil {
		s.SetMatcher(m)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(PathFaceMatch, s.handleFaceMatch)
	mux.HandleFunc(PathHealth, s.handleHealth)
	mux.HandleFunc(PathReady, s.handleReady)
	mux.HandleFunc(PathOpenAPI, s.handleOpenAPI)
	s.registerGallery(mux) // gallery.go
	mux.HandleFunc("/", s.handleNotFound)
	s.mux = mux
	return s
}

// SetMatcher installs (or replaces) the matcher; from then on /readyz
// answers 200.
func (s *Server) SetMatcher(m Matcher) {
	if m == nil {
		s.matcher.Store(nil)
		return
	}
	s.matcher.Store(&matcherBox{m})
}

// Ready reports whether a matcher is installed.
func (s *Server) Ready() bool { return s.matcher.Load() != nil }

func defaultCompare(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error) {
	return m.Compare(ctx, req.Image1.Source(), req.Image2.Source(), &facematch.CompareOptions{Threshold: req.Threshold})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// NewHTTPServer returns an http.Server for h with the timeouts the service
// needs: slow clients cannot hold connections (ReadHeaderTimeout,
// ReadTimeout, IdleTimeout) and responses are bounded (WriteTimeout, a
// little over the request timeout).
func NewHTTPServer(addr string, h http.Handler, requestTimeout time.Duration) *http.Server {
	if requestTimeout <= 0 {
		requestTimeout = DefaultRequestTimeout
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60*time.Second + requestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Response is the JSON envelope of every face-match answer.
type Response struct {
	DecentroTxnID string        `json:"decentroTxnId"`
	Status        string        `json:"status"` // SUCCESS or FAILURE
	ResponseCode  string        `json:"responseCode"`
	Message       string        `json:"message"`
	Data          *ResponseData `json:"data,omitempty"`
	ResponseKey   string        `json:"responseKey"`
}

// ResponseData is the data of a successful scan.
type ResponseData struct {
	Status    string  `json:"status"`    // SUCCESS
	Match     string  `json:"match"`     // calibrated percentage, "95.00%"
	IsMatch   bool    `json:"isMatch"`   // the verdict at Threshold
	Threshold float64 `json:"threshold"` // threshold used
}

// newTxnID returns a random 128-bit id in UUID v4 form.
func newTxnID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; keep ids unique anyway.
		n := time.Now().UnixNano()
		for i := range 8 {
			b[i] = byte(n >> (8 * i))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// checkAuth compares the credential headers in constant time (SHA-256
// digests, so lengths do not leak either; both are always compared).
func (s *Server) checkAuth(r *http.Request) bool {
	if !s.authOn {
		return true
	}
	id := sha256.Sum256([]byte(r.Header.Get(HeaderClientID)))
	sec := sha256.Sum256([]byte(r.Header.Get(HeaderClientSecret)))
	okID := subtle.ConstantTimeCompare(id[:], s.idSum[:])
	okSec := subtle.ConstantTimeCompare(sec[:], s.secretSum[:])
	return okID&okSec == 1
}

// reqLog collects what the request line logs.
type reqLog struct {
	txn, ref, outcome, detail string
	status                    int
	img                       [2]string
	err                       error
}

func (s *Server) handleFaceMatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lg := reqLog{txn: newTxnID()}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			lg.err = fmt.Errorf("panic: %v", p)
			s.fail(w, &lg, CodeInternal, "")
		}
		s.logRequest(r, &lg, time.Since(start))
	}()
	w.Header().Set("X-Request-Id", lg.txn)

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.fail(w, &lg, CodeMethodNotAllowed, "Use POST with a multipart/form-data body.")
		return
	}
	if !s.checkAuth(r) {
		s.fail(w, &lg, CodeUnauthorized, "")
		return
	}
	box := s.matcher.Load()
	if box == nil {
		w.Header().Set("Retry-After", s.retryAfter)
		s.fail(w, &lg, CodeNotReady, "")
		return
	}
	// Two limits keep memory bounded and the cores busy with real work:
	// at most MaxUploads requests are being received or processed (one
	// more is refused before its body is read), and at most MaxConcurrent
	// are compared at once (one more is refused once its body is in). A
	// slow uploader thus holds an upload slot, never a compare slot.
	if !tryAcquire(s.uploads) {
		s.overloaded(w, &lg)
		return
	}
	defer func() { <-s.uploads }()

	r.Body = http.MaxBytesReader(w, r.Body, BodyLimit(s.maxImage))
	req, err := ParseRequest(r, s.maxImage)
	if err != nil {
		lg.err = err
		if re := (*RequestError)(nil); errors.As(err, &re) {
			lg.ref = re.ReferenceID
		}
		c, msg := classify(err)
		if c == CodeTooLarge {
			w.Header().Set("Connection", "close")
		}
		s.fail(w, &lg, c, msg)
		return
	}
	lg.ref = req.ReferenceID
	lg.img = [2]string{req.Image1.Kind(), req.Image2.Kind()}

	if !tryAcquire(s.slots) {
		s.overloaded(w, &lg)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	// Compare runs in its own goroutine so the deadline is honoured even
	// if the matcher does not watch ctx; that goroutine keeps the compare
	// slot until it returns, so abandoned work still counts against the
	// limit.
	type outcome struct {
		res *facematch.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() { <-s.slots }()
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("panic in matcher: %v", p)}
			}
		}()
		res, err := s.compare(ctx, box.m, req)
		done <- outcome{res, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		out.err = ctx.Err()
	}
	if out.err == nil && out.res == nil {
		out.err = errors.New("matcher returned no result")
	}
	if out.err != nil {
		lg.err = out.err
		if r.Context().Err() != nil {
			// The client went away; nobody reads the answer.
			lg.outcome, lg.status = "client_closed", 499
			return
		}
		c, msg := classify(out.err)
		if c == CodeTimeout || c == CodeOverloaded {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		s.fail(w, &lg, c, msg)
		return
	}
	res := out.res
	thr := res.Threshold
	if thr == 0 {
		thr = req.Threshold
	}
	lg.outcome, lg.status = SuccessKey, http.StatusOK
	lg.detail = fmt.Sprintf("match=%t percentage=%.2f", res.Match, res.Percentage)
	writeJSON(w, http.StatusOK, &Response{
		DecentroTxnID: lg.txn,
		Status:        "SUCCESS",
		ResponseCode:  SuccessCode,
		Message:       SuccessMessage,
		Data: &ResponseData{
			Status:    "SUCCESS",
			Match:     res.PercentageText(),
			IsMatch:   res.Match,
			Threshold: thr,
		},
		ResponseKey: SuccessKey,
	})
}

func tryAcquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
		return false
	}
}

// overloaded answers 503 with Retry-After and closes the connection (the
// unread body is not worth draining).
func (s *Server) overloaded(w http.ResponseWriter, lg *reqLog) {
	w.Header().Set("Retry-After", s.retryAfter)
	w.Header().Set("Connection", "close")
	s.fail(w, lg, CodeOverloaded, "")
}

// fail writes a FAILURE envelope.
func (s *Server) fail(w http.ResponseWriter, lg *reqLog, c Code, msg string) {
	if msg == "" {
		msg = c.Message
	}
	lg.outcome, lg.status, lg.detail = c.ResponseKey, c.Status, msg
	writeJSON(w, c.Status, &Response{
		DecentroTxnID: lg.txn,
		Status:        "FAILURE",
		ResponseCode:  c.ResponseCode,
		Message:       msg,
		ResponseKey:   c.ResponseKey,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"status":"FAILURE","responseCode":"E00021","message":"Internal server error.","responseKey":"error_internal"}`)
		status = http.StatusInternalServerError
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// logRequest writes the one log line of a request: never image bytes,
// never credentials.
func (s *Server) logRequest(r *http.Request, lg *reqLog, d time.Duration) {
	level := slog.LevelInfo
	if lg.status >= 500 && lg.status != http.StatusServiceUnavailable {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("txn", lg.txn),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("remote", remoteHost(r.RemoteAddr)),
		slog.String("reference_id", truncate(lg.ref, MaxReferenceIDLen)),
		slog.Int("status", lg.status),
		slog.String("outcome", lg.outcome),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
	}
	if lg.img[0] != "" {
		attrs = append(attrs, slog.String("image1", lg.img[0]), slog.String("image2", lg.img[1]))
	}
	if lg.detail != "" {
		attrs = append(attrs, slog.String("detail", lg.detail))
	}
	if lg.err != nil && lg.status >= 500 {
		// Internal detail goes to the log only (never to the client). Error
		// texts of this package and facematch hold no image bytes or secrets.
		attrs = append(attrs, slog.String("error", truncate(lg.err.Error(), 300)))
	}
	s.log.LogAttrs(r.Context(), level, "face_match", attrs...)
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"status": "method not allowed"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"status": "method not allowed"})
		return
	}
	if !s.Ready() {
		w.Header().Set("Retry-After", s.retryAfter)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "loading"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"status": "method not allowed"})
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(OpenAPI)))
	_, _ = w.Write(OpenAPI)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	lg := reqLog{txn: newTxnID()}
	s.fail(w, &lg, CodeNotFound, "")
}
