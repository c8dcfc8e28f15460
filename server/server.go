package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/internal/fetch"
	"github.com/facematch/facematch/internal/imageio"
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

// OpenAPI returns the OpenAPI 3 document of the service (also served at
// PathOpenAPI). The caller owns the copy.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

//go:embed openapi.yaml
var openAPI []byte

// Matcher compares two images. *facematch.Matcher implements it; tests and
// applications can substitute their own.
type Matcher interface {
	Compare(ctx context.Context, image1, image2 facematch.Source, opts *facematch.CompareOptions) (*facematch.Result, error)
}

// Options configure the handler. The zero value (or nil) gives the defaults.
type Options struct {
	// MaxConcurrent is the number of face-match requests compared at once
	// (compare slots). 0 = runtime.NumCPU().
	MaxConcurrent int
	// MaxQueue is the number of requests that may wait, in arrival order,
	// for memory and a compare slot; one more is answered 503 at once.
	// 0 = DefaultMaxQueue.
	MaxQueue int
	// QueueTimeout bounds the wait in the queue; then 503 with a
	// Retry-After estimated from the queue and the recent service time.
	// 0 = DefaultQueueTimeout.
	QueueTimeout time.Duration
	// MaxUploads is the number of face-match requests admitted at once:
	// bodies arriving, URLs being fetched, queued and compared. More are
	// refused with 503 before their body is read. Values below
	// MaxConcurrent+MaxQueue (0 included) mean MaxConcurrent+MaxQueue.
	MaxUploads int
	// MaxFetches is the number of image URL fetches in progress at once
	// (a pool of its own: fetching never holds a compare slot).
	// 0 = 8 × MaxConcurrent.
	MaxFetches int
	// MaxPerClient caps the requests admitted at once from one remote
	// address. 0 = no cap: many clients of a KYC service often share one
	// gateway address, and one client sending a burst is normal.
	MaxPerClient int
	// MemoryBudget is the process-wide budget, in bytes, charged with the
	// estimated decode memory of each request's images (see
	// facematch.Matcher.DecodeCost) while it is compared; requests wait in
	// the queue for their share, and a request that alone exceeds it is
	// refused (422 error_image_dimensions). 0 = MemoryBudgetFor the
	// cgroup's memory limit.
	MemoryBudget int64
	// BodyBudget bounds the request bodies held at once, in bytes: each
	// admitted request reserves its Content-Length (BodyLimit when
	// unknown) before its body is read, and a request that does not fit
	// is answered 503 at once. 0 = MemoryBudget / 2.
	BodyBudget int64
	// MinUploadRate is the minimum average rate, in bytes per second, at
	// which a request body must arrive once UploadGrace has passed;
	// slower bodies are cut and answered 408 error_body_timeout.
	// 0 = DefaultMinUploadRate; negative = no minimum.
	MinUploadRate float64
	// UploadGrace is the time a body may take before MinUploadRate
	// applies. 0 = DefaultUploadGrace.
	UploadGrace time.Duration
	// BodyTimeout bounds reading a body whatever its rate. 0 = 60 s.
	BodyTimeout time.Duration
	// MaxImageBytes caps each uploaded image. 0 = 6 MB. (The cap on URL
	// images is the Matcher's, facematch.Options.MaxImageBytes.)
	MaxImageBytes int64
	// RequestTimeout bounds the processing of one request after its body
	// is read: fetching, queueing and comparing. 0 = DefaultRequestTimeout.
	RequestTimeout time.Duration
	// RetryAfter is the least Retry-After sent with 503. 0 = 1 s.
	RetryAfter time.Duration
	// ClientID and ClientSecret, when either is non-empty, are required in
	// the client_id and client_secret request headers (constant-time
	// comparison); otherwise 401.
	ClientID, ClientSecret string
	// Logger receives one line per request. nil = slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxQueue       = 64
	DefaultQueueTimeout   = 30 * time.Second
	DefaultMinUploadRate  = 16 << 10 // bytes per second
	DefaultUploadGrace    = 5 * time.Second
	DefaultBodyTimeout    = 60 * time.Second
)

// Server is the http.Handler of the face-match service. It is safe for
// concurrent use.
type Server struct {
	matcher    atomic.Pointer[matcherBox]
	adm        *admission
	uploads    chan struct{} // requests admitted (MaxUploads)
	bodies     *semaphore.Weighted
	bodyBudget int64
	bodyInUse  atomic.Int64
	fetches    chan struct{} // URL fetches in progress (MaxFetches)
	clients    clientLimiter
	metrics    *metrics
	gallery    atomic.Pointer[galleryBox] // gallery endpoints (gallery.go)
	maxImage   int64
	timeout    time.Duration
	minRate    float64
	grace      time.Duration
	bodyTime   time.Duration
	retryMin   time.Duration
	retryAfter string
	authOn     bool
	idSum      [32]byte
	secretSum  [32]byte
	log        *slog.Logger
	mux        *http.ServeMux

	// compare is Matcher.Compare on the request's images; tests replace it.
	compare func(ctx context.Context, m Matcher, req *Request) (*facematch.Result, error)
	// compareMany compares ref with each candidate of a request with more
	// than two images (many.go); tests replace it.
	compareMany func(ctx context.Context, m Matcher, ref Image, cands []Image, opts *facematch.CompareOptions) (*facematch.ManyResult, error)
	// abandoned counts comparisons still running after their request ended.
	abandoned atomic.Int64
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
	if o.MaxQueue <= 0 {
		o.MaxQueue = DefaultMaxQueue
	}
	if o.QueueTimeout <= 0 {
		o.QueueTimeout = DefaultQueueTimeout
	}
	if o.MaxUploads < o.MaxConcurrent+o.MaxQueue {
		o.MaxUploads = o.MaxConcurrent + o.MaxQueue
	}
	if o.MaxFetches <= 0 {
		o.MaxFetches = 8 * o.MaxConcurrent
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = MemoryBudgetFor(CgroupMemoryLimit())
	}
	if o.BodyBudget <= 0 {
		o.BodyBudget = o.MemoryBudget / 2
	}
	if o.MinUploadRate == 0 {
		o.MinUploadRate = DefaultMinUploadRate
	}
	if o.UploadGrace <= 0 {
		o.UploadGrace = DefaultUploadGrace
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
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
		adm:         newAdmission(o.MaxConcurrent, o.MemoryBudget, o.MaxQueue, o.QueueTimeout),
		uploads:     make(chan struct{}, o.MaxUploads),
		bodies:      semaphore.NewWeighted(o.BodyBudget),
		bodyBudget:  o.BodyBudget,
		fetches:     make(chan struct{}, o.MaxFetches),
		clients:     clientLimiter{max: o.MaxPerClient},
		maxImage:    o.MaxImageBytes,
		timeout:     o.RequestTimeout,
		minRate:     o.MinUploadRate,
		grace:       o.UploadGrace,
		bodyTime:    o.BodyTimeout,
		retryMin:    o.RetryAfter,
		retryAfter:  strconv.Itoa(int(math.Ceil(o.RetryAfter.Seconds()))),
		log:         o.Logger,
		compare:     defaultCompare,
		compareMany: defaultCompareMany,
	}
	s.metrics = newMetrics(s.adm, func() int { return len(s.uploads) }, s.bodyInUse.Load)
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
	mux.Handle(PathMetrics, s.metrics.handler)
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
	return m.Compare(ctx, req.Image1.Source(), req.Image2.Source(), &facematch.CompareOptions{Threshold: req.Threshold, RequireSingleFace: req.SingleFace, Liveness: req.Liveness})
}

// ServeHTTP implements http.Handler. A path that is not in clean form
// ("//v2/…", "/a/../b", a trailing slash) is answered 404 in the JSON
// envelope, not redirected.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
		s.handleNotFound(w, r)
		return
	}
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
	// MultipleFaces: image2 shows a competing face (another face at least
	// half as wide as its largest; the largest is the one compared).
	MultipleFaces bool      `json:"multipleFaces"`
	FaceCount     FaceCount `json:"faceCount"` // faces found in each image
	// Orientation is, per image, the quarter turn (0, 90, 180 or 270
	// degrees clockwise) the compared face lay turned by: the image was
	// stored sideways or upside down (no EXIF orientation) and was turned
	// back before comparing (AWS calls it OrientationCorrection). Always
	// present; 0 for an upright face.
	Orientation Orientation `json:"orientation"`
	// Liveness is image2's passive liveness, present when the request had
	// liveness=Y. An attack is still a successful scan: the caller decides.
	Liveness *LivenessData `json:"liveness,omitempty"`
	// Best and Results are present only when the request had more than
	// two images (image3 …): Best names the candidate with the highest
	// percentage, which the fields above then describe (faceCount.image2
	// stays image2's count); Results has one entry per candidate, image2
	// first, each with its own result or error.
	Best    string        `json:"best,omitempty"`
	Results []ImageResult `json:"results,omitempty"`
}

// FaceCount is the number of faces found in each image.
type FaceCount struct {
	Image1 int `json:"image1"`
	Image2 int `json:"image2"`
}

// Orientation is the quarter turn of each image's compared face, in
// degrees clockwise.
type Orientation struct {
	Image1 int `json:"image1"`
	Image2 int `json:"image2"`
}

// LivenessData is the liveness of image2's compared face.
type LivenessData struct {
	Score  float64 `json:"score"`  // real-face probability in [0, 1], 4 decimals
	IsLive bool    `json:"isLive"` // Score >= the service's liveness threshold
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
	code                      string // responseCode
	status                    int
	img, urls                 []string // per image: "upload"/"url", the URL as logged
	err                       error
}

// handleFaceMatch serves PathFaceMatch: it checks the caller, admits the
// request, reads it, prepares its images (fetch, decode-cost estimate,
// queue), compares and answers. Each step answers its own failures.
func (s *Server) handleFaceMatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lg := reqLog{txn: newTxnID()}
	defer s.finishFaceMatch(w, r, &lg, start)
	w.Header().Set("X-Request-Id", lg.txn)

	m, ok := s.checkCaller(w, r, &lg)
	if !ok {
		return
	}
	body, ok := s.admit(w, r, &lg)
	if !ok {
		return
	}
	defer body.release()
	req, ok := s.readFaceMatch(w, r, &lg, start, body)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	j, ok := s.prepare(ctx, w, r, &lg, m, req)
	if !ok {
		return
	}
	out := s.run(ctx, j)
	if out.err != nil {
		s.answerError(w, r, &lg, out.err)
		return
	}
	if out.many != nil {
		s.answerMany(w, r, &lg, j, out.many)
		return
	}
	s.answerPair(w, &lg, req, out.res)
}

// finishFaceMatch is deferred by handleFaceMatch: it turns a panic into a
// 500, records the metrics and writes the log line.
func (s *Server) finishFaceMatch(w http.ResponseWriter, r *http.Request, lg *reqLog, start time.Time) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		lg.err = fmt.Errorf("panic: %v", p)
		s.fail(w, lg, CodeInternal, "")
	}
	s.metrics.stages.WithLabelValues(stageTotal).Observe(time.Since(start).Seconds())
	switch {
	case lg.code != "":
		s.metrics.requests.WithLabelValues(lg.code).Inc()
	case lg.status == 499:
		s.metrics.requests.WithLabelValues("client_closed").Inc()
	}
	s.logRequest(r, lg, time.Since(start))
}

// checkCaller checks credentials, method and readiness, and returns the
// matcher.
func (s *Server) checkCaller(w http.ResponseWriter, r *http.Request, lg *reqLog) (Matcher, bool) {
	// Credentials first: a client without them learns nothing about the
	// endpoint, not even which methods it takes (401 before 405).
	if !s.checkAuth(r) {
		s.fail(w, lg, CodeUnauthorized, "")
		return nil, false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.fail(w, lg, CodeMethodNotAllowed, "Use POST with a multipart/form-data body.")
		return nil, false
	}
	box := s.matcher.Load()
	if box == nil {
		w.Header().Set("Retry-After", s.retryAfter)
		s.fail(w, lg, CodeNotReady, "")
		return nil, false
	}
	return box.m, true
}

// bodyReservation is the share of the body budget a request holds.
type bodyReservation struct {
	s      *Server
	n      int64
	client string
}

// grow reserves extra more bytes (for a further image's share of the body
// cap); false when the budget cannot give them.
func (b *bodyReservation) grow(extra int64) bool {
	extra = min(extra, b.s.bodyBudget-b.n)
	if extra <= 0 {
		return true // already holds the whole budget
	}
	if !b.s.bodies.TryAcquire(extra) {
		return false
	}
	b.n += extra
	b.s.bodyInUse.Add(extra)
	return true
}

// release gives back the body budget, the upload place and the client's
// place.
func (b *bodyReservation) release() {
	b.s.bodyInUse.Add(-b.n)
	b.s.bodies.Release(b.n)
	<-b.s.uploads
	b.s.clients.release(b.client)
}

// admit lets the request in: at most MaxUploads requests are in the house
// (bodies arriving, URLs fetched, queued or compared), MaxPerClient per
// client, and the body's bytes are reserved before they are read; one more
// is refused before its body is read. Slow bodies are cut by the minimum
// upload rate, so they cannot hold these places for long.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, lg *reqLog) (*bodyReservation, bool) {
	client := remoteHost(r.RemoteAddr)
	if !s.clients.acquire(client) {
		s.overloaded(w, lg)
		return nil, false
	}
	if !tryAcquire(s.uploads) {
		s.clients.release(client)
		s.overloaded(w, lg)
		return nil, false
	}
	// A declared length is reserved whole (up to the largest request); an
	// unknown one as a two-image body, grown by each further image.
	cost := BodyLimit(s.maxImage)
	if r.ContentLength >= 0 {
		cost = min(r.ContentLength, BodyLimitFor(s.maxImage, MaxImages))
	}
	cost = min(cost, s.bodyBudget)
	if !s.bodies.TryAcquire(cost) {
		<-s.uploads
		s.clients.release(client)
		s.overloaded(w, lg)
		return nil, false
	}
	s.bodyInUse.Add(cost)
	return &bodyReservation{s: s, n: cost, client: client}, true
}

// readFaceMatch reads and validates the body under the minimum upload rate
// and the body cap; a request with a declared length grows its cap within
// what it reserved, one without reserves more for each further image.
func (s *Server) readFaceMatch(w http.ResponseWriter, r *http.Request, lg *reqLog, start time.Time, body *bodyReservation) (*Request, bool) {
	var in io.Reader = r.Body
	var rr *rateReader
	if s.minRate > 0 {
		rr = &rateReader{r: in, rc: http.NewResponseController(w), start: start,
			grace: s.grace, rate: s.minRate, hard: start.Add(s.bodyTime)}
		in = rr
	}
	r.Body = http.MaxBytesReader(w, readCloser{in, r.Body}, BodyLimitFor(s.maxImage, MaxImages))
	reserve := body.grow
	if r.ContentLength >= 0 {
		reserve = nil // the declared length is reserved already
	}
	req, err := parseRequest(r, s.maxImage, reserve)
	if rr != nil {
		rr.done()
	}
	if err != nil {
		lg.err = err
		if re := (*RequestError)(nil); errors.As(err, &re) {
			lg.ref = re.ReferenceID
		}
		c, msg := classify(err)
		if rr != nil && rr.timedOut {
			c, msg = CodeBodyTimeout, ""
		}
		if c == CodeTooLarge || c == CodeBodyTimeout || c == CodeInvalidRequest || c == CodeOverloaded {
			w.Header().Set("Connection", "close")
		}
		if c == CodeOverloaded {
			w.Header().Set("Retry-After", s.adm.retryAfter(s.retryMin))
		}
		s.fail(w, lg, c, msg)
		return nil, false
	}
	lg.ref = req.ReferenceID
	for _, im := range append([]Image{req.Image1}, req.Candidates()...) {
		lg.img = append(lg.img, im.Kind())
		lg.urls = append(lg.urls, safeURL(im.URL))
	}
	return req, true
}

// job is a request ready to compare: its images fetched, its decode memory
// estimated, a compare slot and that memory held (ticket).
type job struct {
	m      Matcher
	req    *Request
	ticket *ticket
	// failed holds, per candidate (image2, image3 …), an error found
	// before comparing (fetch, image header) in a request of more than two
	// images: that image is answered with its error and not compared.
	failed []error
}

// prepare fetches the request's URLs, prices the decode memory of its
// images and queues for a compare slot and that memory.
func (s *Server) prepare(ctx context.Context, w http.ResponseWriter, r *http.Request, lg *reqLog, m Matcher, req *Request) (*job, bool) {
	j := &job{m: m, req: req, failed: make([]error, 1+len(req.More))}
	// URLs are fetched first, in their own pool: a slow URL holds a fetch
	// place, never a compare slot.
	if err := j.keep(s.fetchImages(ctx, m, req)); err != nil {
		s.answerError(w, r, lg, err)
		return nil, false
	}
	// The estimated decode memory of the images is charged to the budget
	// for as long as the comparison runs.
	costs, errs := s.decodeCosts(m, req)
	if err := j.keep(errs); err != nil {
		s.answerError(w, r, lg, err)
		return nil, false
	}
	var mem int64
	for i, c := range costs {
		if i == 0 || j.failed[i-1] == nil {
			mem += c
		}
	}
	if mem > s.adm.budget {
		lg.err = fmt.Errorf("decode needs %d bytes, budget %d", mem, s.adm.budget)
		s.fail(w, lg, CodeImageDimensions, fmt.Sprintf("The images need about %d MB of memory to decode, more than this server allows (%d MB).", (mem+(1<<20)-1)>>20, s.adm.budget>>20))
		return nil, false
	}
	t, waited, err := s.adm.acquire(ctx, mem)
	s.metrics.queueWait.Observe(waited.Seconds())
	if err != nil {
		lg.err = err
		if r.Context().Err() != nil {
			lg.outcome, lg.status = "client_closed", 499
			return nil, false
		}
		if errors.Is(err, context.DeadlineExceeded) {
			w.Header().Set("Retry-After", s.adm.retryAfter(s.retryMin))
			s.fail(w, lg, CodeTimeout, "")
			return nil, false
		}
		s.overloaded(w, lg)
		return nil, false
	}
	j.ticket = t
	return j, true
}

// keep takes the per-image errors of a preparation step (errs[0] is
// image1's). It returns the error that fails the whole request: image1's,
// or in a two-image request image2's (as Compare would report it); a
// further request's candidate errors are kept in failed instead, unless
// every candidate has failed (then the first one's).
func (j *job) keep(errs []error) error {
	if errs[0] != nil {
		return errs[0]
	}
	if len(j.req.More) == 0 {
		return errs[1]
	}
	left := 0
	for i, err := range errs[1:] {
		if err != nil && j.failed[i] == nil {
			j.failed[i] = err
		}
		if j.failed[i] == nil {
			left++
		}
	}
	if left == 0 {
		return j.failed[0]
	}
	return nil
}

// outcome is what the comparison gave: res for two images, many for more.
type outcome struct {
	res  *facematch.Result
	many *facematch.ManyResult
	err  error
}

// run compares in its own goroutine so the deadline is honoured even if
// the matcher does not watch ctx. The compare slot is given back when the
// request ends; the memory only when the goroutine returns, so abandoned
// work still counts against the budget.
func (s *Server) run(ctx context.Context, j *job) outcome {
	t := j.ticket
	done := make(chan outcome, 1)
	var ended atomic.Bool
	go func() {
		defer t.releaseMem()
		defer t.releaseSlot()
		defer func() {
			if ended.Load() {
				s.abandoned.Add(-1)
			}
		}()
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("panic in matcher: %v", p)}
			}
		}()
		if len(j.req.More) == 0 {
			res, err := s.compare(ctx, j.m, j.req)
			if err == nil && res == nil {
				err = errors.New("matcher returned no result")
			}
			done <- outcome{res: res, err: err}
			return
		}
		many, err := s.compareCandidates(ctx, j)
		done <- outcome{many: many, err: err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		out.err = ctx.Err()
		s.abandoned.Add(1)
		ended.Store(true)
		// A goroutine that finished at the same moment is not abandoned.
		select {
		case <-done:
			if ended.CompareAndSwap(true, false) {
				s.abandoned.Add(-1)
			}
		default:
		}
		t.releaseSlot()
	}
	return out
}

// answerPair writes the answer of a two-image request.
func (s *Server) answerPair(w http.ResponseWriter, lg *reqLog, req *Request, res *facematch.Result) {
	thr := res.Threshold
	if thr == 0 {
		thr = req.Threshold
	}
	lg.outcome, lg.status, lg.code = SuccessKey, http.StatusOK, SuccessCode
	lg.detail = fmt.Sprintf("match=%t percentage=%.2f", res.Match, res.Percentage)
	writeJSON(w, http.StatusOK, &Response{
		DecentroTxnID: lg.txn,
		Status:        "SUCCESS",
		ResponseCode:  SuccessCode,
		Message:       SuccessMessage,
		Data: &ResponseData{
			Status:        "SUCCESS",
			Match:         res.PercentageText(),
			IsMatch:       res.Match,
			Threshold:     thr,
			MultipleFaces: res.MultipleFaces,
			FaceCount:     FaceCount{Image1: len(res.Images[0].Faces), Image2: len(res.Images[1].Faces)},
			Orientation:   Orientation{Image1: res.Images[0].Orientation, Image2: res.Images[1].Orientation},
			Liveness:      livenessData(res.Liveness),
		},
		ResponseKey: SuccessKey,
	})
}

// answerError answers an error of fetching, estimating or comparing.
func (s *Server) answerError(w http.ResponseWriter, r *http.Request, lg *reqLog, err error) {
	lg.err = err
	if r.Context().Err() != nil {
		// The client went away; nobody reads the answer.
		lg.outcome, lg.status = "client_closed", 499
		return
	}
	c, msg := classify(err)
	if c == CodeTimeout || c == CodeOverloaded {
		w.Header().Set("Retry-After", s.adm.retryAfter(s.retryMin))
	}
	s.fail(w, lg, c, msg)
}

// urlFetcher is implemented by *facematch.Matcher: the server fetches
// image URLs itself, before it queues for a compare slot.
type urlFetcher interface {
	Fetch(ctx context.Context, rawURL string) ([]byte, error)
}

// decodeCoster is implemented by *facematch.Matcher.
type decodeCoster interface {
	DecodeCost(data []byte) (int64, error)
}

// requestImages returns pointers to image1, image2 and the further images.
func requestImages(req *Request) []*Image {
	ims := []*Image{&req.Image1, &req.Image2}
	for i := range req.More {
		ims = append(ims, &req.More[i])
	}
	return ims
}

// fetchImages replaces the request's URLs by their content, all at once,
// each holding a place of the fetch pool. Matchers that cannot fetch get
// the URLs as they are. It returns the error of each image (an
// *facematch.ImageError), nil where it was fetched or is no URL.
func (s *Server) fetchImages(ctx context.Context, m Matcher, req *Request) []error {
	ims := requestImages(req)
	errs := make([]error, len(ims))
	f, ok := m.(urlFetcher)
	if !ok {
		return errs
	}
	var wg sync.WaitGroup
	for i, im := range ims {
		if im.URL == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case s.fetches <- struct{}{}:
			case <-ctx.Done():
				errs[i] = &facematch.ImageError{Image: i + 1, Err: fmt.Errorf("%w: waiting to fetch: %w", facematch.ErrFetchTimeout, ctx.Err())}
				return
			}
			defer func() { <-s.fetches }()
			start := time.Now()
			b, err := f.Fetch(ctx, im.URL)
			if _, observed := m.(*facematch.Matcher); !observed {
				s.ObserveStage(stageFetch, time.Since(start))
			}
			if err != nil {
				errs[i] = &facematch.ImageError{Image: i + 1, Err: err}
				return
			}
			im.Data, im.URL = b, ""
		}()
	}
	wg.Wait()
	return errs
}

// decodeCosts is the estimated decode memory of each of the request's
// uploaded (or fetched) images, and the errors found in their headers
// (ImageErrors).
func (s *Server) decodeCosts(m Matcher, req *Request) ([]int64, []error) {
	cost := func(b []byte) (int64, error) {
		if dc, ok := m.(decodeCoster); ok {
			return dc.DecodeCost(b)
		}
		c, err := imageio.Estimate(b, nil)
		return c.Bytes, err
	}
	ims := requestImages(req)
	costs := make([]int64, len(ims))
	errs := make([]error, len(ims))
	for i, im := range ims {
		if im.URL != "" {
			continue // fetched by the matcher: cannot be priced beforehand
		}
		n, err := cost(im.Data)
		if err != nil {
			if _, ok := m.(decodeCoster); ok {
				errs[i] = &facematch.ImageError{Image: i + 1, Err: err}
			}
			// Another Matcher may read what imageio cannot: it judges.
			continue
		}
		costs[i] = n
	}
	return costs, errs
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

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
	w.Header().Set("Retry-After", s.adm.retryAfter(s.retryMin))
	w.Header().Set("Connection", "close")
	s.fail(w, lg, CodeOverloaded, "")
}

// fail writes a FAILURE envelope.
func (s *Server) fail(w http.ResponseWriter, lg *reqLog, c Code, msg string) {
	if msg == "" {
		msg = c.Message
	}
	lg.outcome, lg.status, lg.detail, lg.code = c.ResponseKey, c.Status, msg, c.ResponseCode
	writeJSON(w, c.Status, failure(lg.txn, c, msg))
}

func failure(txn string, c Code, msg string) *Response {
	return &Response{
		DecentroTxnID: txn,
		Status:        "FAILURE",
		ResponseCode:  c.ResponseCode,
		Message:       msg,
		ResponseKey:   c.ResponseKey,
	}
}

// jsonEnvelope is the body of a FAILURE answer.
func jsonEnvelope(txn string, c Code, msg string) ([]byte, error) {
	b, err := json.Marshal(failure(txn, c, msg))
	return append(b, '\n'), err
}

func itoa(n int) string { return strconv.Itoa(n) }

// safeURL is an image URL as logged: no userinfo, query or fragment.
func safeURL(raw string) string {
	if raw == "" {
		return ""
	}
	return fetch.SafeString(raw)
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
		slog.String("reference_id", truncateRunes(lg.ref, MaxReferenceIDLen)),
		slog.Int("status", lg.status),
		slog.String("outcome", lg.outcome),
		slog.Float64("latency_ms", float64(d.Microseconds())/1000),
	}
	for i, k := range lg.img {
		attrs = append(attrs, slog.String(imageName(i+1), k))
	}
	for i, u := range lg.urls {
		if u != "" {
			attrs = append(attrs, slog.String(imageName(i+1)+"_url", u))
		}
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
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPI)))
	_, _ = w.Write(openAPI)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	lg := reqLog{txn: newTxnID()}
	s.fail(w, &lg, CodeNotFound, "")
}

// truncateRunes cuts s to at most n characters (not bytes).
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

func livenessData(l *facematch.LivenessResult) *LivenessData {
	if l == nil {
		return nil
	}
	return &LivenessData{Score: math.Round(l.Score*1e4) / 1e4, IsLive: l.Live}
}
