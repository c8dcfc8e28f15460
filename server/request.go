package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/facematch/facematch"
)

// Field names and limits of the face-match request.
const (
	FieldReferenceID    = "reference_id"
	FieldConsent        = "consent"
	FieldConsentPurpose = "consent_purpose"
	FieldThreshold      = "threshold"
	FieldLiveness       = "liveness"    // "Y"/"y": also check image2's liveness
	FieldSingleFace     = "single_face" // optional: Y/y refuses an image2 with a competing face (422 error_multiple_faces)
	FieldImage1         = "image1"
	FieldImage2         = "image2" // further images: image3 … image10 (MaxImages)

	MaxReferenceIDLen    = 100  // characters
	MaxConsentPurposeLen = 200  // characters
	MaxURLLen            = 2048 // bytes
	maxTextField         = 4096 // bytes read from any non-image text field
	maxParts             = 24   // parts in one request (6 text fields, MaxImages images, slack)

	// MaxImages is the most images one request compares: image1 (the
	// reference) with image2 … image10, each as image2 is.
	MaxImages = 1 + facematch.MaxCandidates

	// DefaultMaxImageBytes is the per-image cap (6 MB), for uploads and URLs.
	DefaultMaxImageBytes = 6 << 20
	// bodyMargin is what the body cap allows beyond the images: the text
	// fields, the multipart boundaries and part headers.
	bodyMargin = 256 << 10
)

// Threshold range accepted by the endpoint (the facematch range).
const (
	DefaultThreshold = facematch.DefaultThreshold
	MinThreshold     = facematch.MinThreshold
	MaxThreshold     = facematch.MaxThreshold
)

// Image is one image of a request: uploaded bytes or an http(s) URL
// (exactly one of the two is set).
type Image struct {
	Data []byte // uploaded content (may be empty: a 0-byte upload)
	URL  string // http(s) URL to fetch
}

// Source converts the image into a facematch.Source.
func (im Image) Source() facematch.Source {
	if im.URL != "" {
		return facematch.URL(im.URL)
	}
	return facematch.Bytes(im.Data)
}

// Kind is "upload" or "url".
func (im Image) Kind() string {
	if im.URL != "" {
		return "url"
	}
	return "upload"
}

// Request is a parsed and validated face-match request.
type Request struct {
	ReferenceID    string
	ConsentPurpose string
	Threshold      float64 // DefaultThreshold when the field was absent
	Liveness       bool    // field liveness = Y: add data.liveness
	SingleFace     bool    // single_face=Y: a competing face in image2 is an error
	Image1, Image2 Image
	// More holds image3, image4 … in order (empty for a two-image
	// request): further candidates, each compared with Image1 as Image2 is.
	More []Image
}

// Candidates returns image2 and the further images, in order.
func (r *Request) Candidates() []Image { return append([]Image{r.Image2}, r.More...) }

// BodyLimit returns the body cap of a two-image request for a per-image
// cap.
func BodyLimit(maxImageBytes int64) int64 { return BodyLimitFor(maxImageBytes, 2) }

// BodyLimitFor returns the body cap of a request with the given number of
// images (at least two are counted): maxImageBytes per image plus 256 KB
// for the text fields and the multipart framing.
func BodyLimitFor(maxImageBytes int64, images int) int64 {
	return int64(max(images, 2))*maxImageBytes + bodyMargin
}

// ParseRequest reads a multipart/form-data face-match request from r,
// streaming it part by part (nothing goes to temporary files, each image is
// read at most up to maxImageBytes+1 bytes). Errors are *RequestError. The
// body is capped at BodyLimit(maxImageBytes), raised by maxImageBytes for
// each further image (image3 …) as its part arrives: BodyLimitFor.
func ParseRequest(r *http.Request, maxImageBytes int64) (*Request, error) {
	return parseRequest(r, maxImageBytes, nil)
}

// parseRequest is ParseRequest; reserve, when not nil, is asked for the
// bytes of each raise of the body cap (false: 503 error_server_busy).
func parseRequest(r *http.Request, maxImageBytes int64, reserve func(extra int64) bool) (*Request, error) {
	if maxImageBytes <= 0 {
		maxImageBytes = DefaultMaxImageBytes
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" {
		return nil, reqErr(CodeUnsupportedContent, "The request body must be multipart/form-data (got "+strconv.Quote(truncate(mt, 64))+").")
	}
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 70 {
		return nil, reqErr(CodeInvalidRequest, "The multipart/form-data Content-Type has no valid boundary.")
	}
	bc := &bodyCap{r: r.Body, limit: BodyLimit(maxImageBytes), reserve: reserve}
	fr := &finalBoundaryReader{r: bc, final: []byte("--" + boundary + "--")}
	return parseMultipart(multipart.NewReader(fr, boundary), fr, bc, maxImageBytes)
}

// finalBoundaryReader watches the stream for the closing boundary:
// mime/multipart reports a body truncated inside a part header as a clean
// io.EOF, so the parser checks that the closing boundary was really seen.
type finalBoundaryReader struct {
	r     io.Reader
	final []byte
	tail  []byte // last len(final)-1 bytes seen
	seen  bool
}

func (f *finalBoundaryReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.seen {
		k := len(f.final) - 1
		if n >= k {
			// Check the seam (tail + head of p), then p itself.
			seam := append(f.tail, p[:min(n, k)]...)
			f.seen = bytes.Contains(seam, f.final) || bytes.Contains(p[:n], f.final)
			f.tail = append(f.tail[:0], p[n-k:n]...)
		} else {
			buf := append(f.tail, p[:n]...)
			f.seen = bytes.Contains(buf, f.final)
			if len(buf) > k {
				buf = buf[len(buf)-k:]
			}
			f.tail = append(f.tail[:0], buf...)
		}
	}
	return n, err
}

// form is the state of a face-match form while its parts are read.
type form struct {
	req           *Request
	maxImageBytes int64
	cap           *bodyCap // nil when the caller caps the body itself
	seen          map[string]bool
	images        [MaxImages]*Image // images[i] is image<i+1>
	consent       string
	thrText       string
	livText       string
	nparts        int
	haveRef       bool
	havePurp      bool
}

func parseMultipart(mr *multipart.Reader, fr *finalBoundaryReader, bc *bodyCap, maxImageBytes int64) (_ *Request, err error) {
	f := &form{req: &Request{Threshold: DefaultThreshold}, maxImageBytes: maxImageBytes, cap: bc, seen: map[string]bool{}}
	defer func() {
		// A request refused for another field still names its valid
		// reference_id in the log line.
		var re *RequestError
		if err != nil && errors.As(err, &re) {
			if ref := strings.TrimSpace(f.req.ReferenceID); ref != "" && utf8.RuneCountInString(ref) <= MaxReferenceIDLen && printable(ref) {
				re.ReferenceID = ref
			}
		}
	}()
	if err := f.readParts(mr, fr); err != nil {
		return nil, err
	}
	return f.validate()
}

// readParts reads every part of the body up to its closing boundary.
func (f *form) readParts(mr *multipart.Reader, fr *finalBoundaryReader) error {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			if fr != nil && !fr.seen {
				return reqErr(CodeInvalidRequest, "The multipart body is truncated (no closing boundary).")
			}
			return nil
		}
		if err != nil {
			return bodyError(err, "The multipart body is malformed.")
		}
		err = f.readPart(part)
		part.Close()
		if err != nil {
			return err
		}
	}
}

// readPart reads one part: an image, a known text field, or an unknown
// part (drained, bounded by the body cap, and ignored).
func (f *form) readPart(part *multipart.Part) error {
	f.nparts++
	if f.nparts > maxParts {
		return reqErr(CodeInvalidRequest, fmt.Sprintf("Too many parts in the multipart body (at most %d).", maxParts))
	}
	name := part.FormName()
	n, isImage, err := imageField(name)
	if err != nil {
		return err
	}
	switch {
	case isImage:
		if err := f.once(name); err != nil {
			return err
		}
		if n > 2 && f.cap != nil {
			// Each further image brings its own share of the body cap.
			if err := f.cap.grow(f.maxImageBytes); err != nil {
				return err
			}
		}
		im, err := readImagePart(part, name, f.maxImageBytes)
		if err != nil {
			return err
		}
		f.images[n-1] = im
		return nil
	case name == FieldReferenceID, name == FieldConsent, name == FieldConsentPurpose, name == FieldThreshold, name == FieldLiveness, name == FieldSingleFace:
		if err := f.once(name); err != nil {
			return err
		}
		v, err := readText(part, name)
		if err != nil {
			return err
		}
		return f.setText(name, v)
	default:
		if _, err := io.Copy(io.Discard, part); err != nil {
			return bodyError(err, "The multipart body is malformed.")
		}
		return nil
	}
}

// once refuses a field given twice.
func (f *form) once(name string) error {
	if f.seen[name] {
		return reqErr(CodeInvalidField, "The field "+name+" is given more than once.")
	}
	f.seen[name] = true
	return nil
}

// setText records a text field; only single_face is checked at once (the
// others are validated in a fixed order by validate).
func (f *form) setText(name, v string) error {
	switch name {
	case FieldReferenceID:
		f.req.ReferenceID, f.haveRef = v, true
	case FieldConsent:
		f.consent = v
	case FieldConsentPurpose:
		f.req.ConsentPurpose, f.havePurp = v, true
	case FieldThreshold:
		f.thrText = v
	case FieldLiveness:
		f.livText = v
	case FieldSingleFace:
		switch strings.TrimSpace(v) {
		case "Y", "y":
			f.req.SingleFace = true
		case "", "N", "n":
		default:
			return reqErr(CodeInvalidField, "The field single_face must be Y or N.")
		}
	}
	return nil
}

// imageField tells whether name is an image field, image1 … image<MaxImages>,
// and which; a higher image number is an error. Other names (image01,
// imagex) are not image fields.
func imageField(name string) (n int, ok bool, err error) {
	digits, found := strings.CutPrefix(name, "image")
	if !found || digits == "" || digits[0] == '0' || len(digits) > 6 {
		return 0, false, nil
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return 0, false, nil
		}
	}
	n, _ = strconv.Atoi(digits)
	if n > MaxImages {
		return 0, false, reqErr(CodeInvalidField, fmt.Sprintf("Too many images: at most %d (image1 to image%d), got %s.", MaxImages, MaxImages, truncate(name, 16)))
	}
	return n, true, nil
}

// validate checks the fields in a fixed order, so a request with several
// problems always gets the same answer.
func (f *form) validate() (*Request, error) {
	for _, check := range []func() error{f.checkReference, f.checkConsent, f.checkPurpose, f.checkThreshold, f.checkLiveness, f.checkImages} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return f.req, nil
}

func (f *form) checkReference() error {
	ref := strings.TrimSpace(f.req.ReferenceID)
	if !f.haveRef || ref == "" {
		return reqErr(CodeMissingField, "The field reference_id is required.")
	}
	if n := utf8.RuneCountInString(ref); n > MaxReferenceIDLen {
		return reqErr(CodeInvalidField, fmt.Sprintf("The field reference_id is longer than %d characters.", MaxReferenceIDLen))
	}
	if !printable(ref) {
		return reqErr(CodeInvalidField, "The field reference_id must contain printable characters only.")
	}
	f.req.ReferenceID = ref
	return nil
}

func (f *form) checkConsent() error {
	if !f.seen[FieldConsent] || strings.TrimSpace(f.consent) == "" {
		return reqErr(CodeConsentRequired, "The field consent is required and must be Y or y.")
	}
	if c := strings.TrimSpace(f.consent); c != "Y" && c != "y" {
		return reqErr(CodeConsentRequired, "")
	}
	return nil
}

func (f *form) checkPurpose() error {
	purpose := strings.TrimSpace(f.req.ConsentPurpose)
	if !f.havePurp || purpose == "" {
		return reqErr(CodeMissingField, "The field consent_purpose is required.")
	}
	if n := utf8.RuneCountInString(purpose); n > MaxConsentPurposeLen {
		return reqErr(CodeInvalidField, fmt.Sprintf("The field consent_purpose is longer than %d characters.", MaxConsentPurposeLen))
	}
	if !printable(purpose) {
		return reqErr(CodeInvalidField, "The field consent_purpose must contain printable characters only.")
	}
	f.req.ConsentPurpose = purpose
	return nil
}

func (f *form) checkThreshold() error {
	t := strings.TrimSpace(f.thrText)
	if t == "" {
		return nil
	}
	v, err := parseDecimal(t)
	if err == nil {
		err = facematch.CheckThreshold(v)
	}
	if err != nil {
		return &RequestError{Code: CodeInvalidThreshold, Message: "The threshold must be a number between 0.70 and 0.95 (got " + strconv.Quote(truncate(t, 32)) + ").", Err: err}
	}
	f.req.Threshold = v
	return nil
}

func (f *form) checkLiveness() error {
	switch strings.TrimSpace(f.livText) {
	case "Y", "y":
		f.req.Liveness = true
	case "", "N", "n":
	default:
		return reqErr(CodeInvalidField, "The field liveness must be Y or N.")
	}
	return nil
}

// checkImages requires image1 and image2, and further images numbered
// without gaps (image3, image4, …).
func (f *form) checkImages() error {
	last := 2
	for i, im := range f.images {
		if im != nil {
			last = max(last, i+1)
		}
	}
	for i, im := range f.images[:last] {
		if im != nil {
			continue
		}
		n := imageName(i + 1)
		if i < 2 {
			return reqErr(CodeMissingField, "The field "+n+" is required: a JPEG/PNG file upload or an http(s) URL.")
		}
		return reqErr(CodeMissingField, fmt.Sprintf("The field %s is missing: %s is given, and images are numbered without gaps.", n, imageName(last)))
	}
	f.req.Image1, f.req.Image2 = *f.images[0], *f.images[1]
	for _, im := range f.images[2:last] {
		f.req.More = append(f.req.More, *im)
	}
	return nil
}

// bodyCap caps a request body at a limit that grows as further images
// arrive; past it, reads fail with *http.MaxBytesError (413).
type bodyCap struct {
	r       io.Reader
	n       int64 // bytes read
	limit   int64
	reserve func(extra int64) bool // nil, or asks the server for the memory of a raised limit
}

func (b *bodyCap) Read(p []byte) (int, error) {
	if b.n > b.limit {
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	if int64(len(p)) > b.limit-b.n+1 {
		p = p[:b.limit-b.n+1] // one byte past the limit tells that there is more
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		return n - int(b.n-b.limit), &http.MaxBytesError{Limit: b.limit}
	}
	return n, err
}

// grow raises the cap by extra bytes, once the server has reserved them.
func (b *bodyCap) grow(extra int64) error {
	if b.reserve != nil && !b.reserve(extra) {
		return &RequestError{Code: CodeOverloaded, Err: errBodyBudget}
	}
	b.limit += extra
	return nil
}

var errBodyBudget = errors.New("no body budget left for a further image")

// readImagePart reads an image field (image1, image2 …): a file part (upload) or a text field
// holding an http(s) URL.
func readImagePart(part *multipart.Part, name string, maxImageBytes int64) (*Image, error) {
	data, err := io.ReadAll(io.LimitReader(part, maxImageBytes+1))
	if err != nil {
		return nil, bodyError(err, "The multipart body is malformed.")
	}
	if int64(len(data)) > maxImageBytes {
		return nil, reqErr(CodeTooLarge, fmt.Sprintf("%s: the image is larger than %d bytes.", name, maxImageBytes))
	}
	if isFilePart(part) {
		return &Image{Data: data}, nil
	}
	// A plain form field: an http(s) URL, or (lenient) raw JPEG/PNG bytes
	// sent without a filename.
	if looksLikeImage(data) {
		return &Image{Data: data}, nil
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return nil, reqErr(CodeMissingField, "The field "+name+" is empty: give a JPEG/PNG file upload or an http(s) URL.")
	}
	if len(v) > MaxURLLen || !utf8.ValidString(v) || !printable(v) {
		return nil, reqErr(CodeInvalidField, "The field "+name+" must be a JPEG/PNG file upload or an http(s) URL.")
	}
	if err := checkURL(v); err != nil {
		return nil, &RequestError{Code: CodeInvalidURL, Message: name + ": " + err.Error() + ".", Err: facematch.ErrInvalidURL}
	}
	return &Image{URL: v}, nil
}

// isFilePart reports whether the part is a file upload: it has a filename,
// or a Content-Type that is not text.
func isFilePart(p *multipart.Part) bool {
	if p.FileName() != "" {
		return true
	}
	ct := p.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err != nil || !strings.HasPrefix(mt, "text/")
}

func looksLikeImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) || bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n"))
}

// checkURL validates the syntax of an image URL: absolute http(s) with a
// host and no credentials. Whether the destination is allowed (private
// addresses) is decided by the fetcher, on the resolved addresses.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("the URL cannot be parsed")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return errors.New("only http and https URLs are accepted")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("the URL has no host")
	}
	if u.User != nil {
		return errors.New("URLs with credentials are not accepted")
	}
	return nil
}

func readText(part *multipart.Part, name string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(part, maxTextField+1))
	if err != nil {
		return "", bodyError(err, "The multipart body is malformed.")
	}
	if len(b) > maxTextField {
		return "", reqErr(CodeInvalidField, "The field "+name+" is too long.")
	}
	if !utf8.Valid(b) {
		return "", reqErr(CodeInvalidField, "The field "+name+" is not valid UTF-8 text.")
	}
	return string(b), nil
}

// printable reports whether s has only printable characters (spaces
// allowed, no control or format characters).
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// bodyError turns a read error into a RequestError: 413 when the body cap
// was hit, else 400 with msg.
func bodyError(err error, msg string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &RequestError{Code: CodeTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", mbe.Limit), Err: err}
	}
	return &RequestError{Code: CodeInvalidRequest, Message: msg, Err: err}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// parseDecimal parses a plain decimal number ("0.8", ".85", "8e-1"), not
// the other forms strconv.ParseFloat accepts (hex floats, "Inf", "NaN",
// underscores).
func parseDecimal(t string) (float64, error) {
	digits := 0
	for i, r := range t {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' || r == 'e' || r == 'E':
		case (r == '+' || r == '-') && (i == 0 || t[i-1] == 'e' || t[i-1] == 'E'):
		default:
			return 0, fmt.Errorf("%q is not a decimal number", t)
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("%q is not a decimal number", t)
	}
	return strconv.ParseFloat(t, 64)
}
