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
	FieldImage2         = "image2"

	MaxReferenceIDLen    = 100  // characters
	MaxConsentPurposeLen = 200  // characters
	MaxURLLen            = 2048 // bytes
	maxTextField         = 4096 // bytes read from any non-image text field
	maxParts             = 16   // parts in one request (6 known fields + slack)

	// DefaultMaxImageBytes is the per-image cap (6 MB), for uploads and URLs.
	DefaultMaxImageBytes = 6 << 20
	// bodyMargin is what the body cap allows beyond two images: the text
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
}

// BodyLimit returns the request body cap for a per-image cap.
func BodyLimit(maxImageBytes int64) int64 { return 2*maxImageBytes + bodyMargin }

// ParseRequest reads a multipart/form-data face-match request from r,
// streaming it part by part (nothing goes to temporary files, each image is
// read at most up to maxImageBytes+1 bytes). Errors are *RequestError. The
// caller caps the body (http.MaxBytesReader) at BodyLimit(maxImageBytes).
func ParseRequest(r *http.Request, maxImageBytes int64) (*Request, error) {
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
	fr := &finalBoundaryReader{r: r.Body, final: []byte("--" + boundary + "--")}
	return parseMultipart(multipart.NewReader(fr, boundary), fr, maxImageBytes)
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

func parseMultipart(mr *multipart.Reader, fr *finalBoundaryReader, maxImageBytes int64) (_ *Request, err error) {
	var (
		req      = &Request{Threshold: DefaultThreshold}
		seen     = map[string]bool{}
		images   [2]*Image
		consent  string
		thrText  string
		livText  string
		nparts   int
		haveRef  bool
		havePurp bool
	)
	defer func() {
		// A request refused for another field still names its valid
		// reference_id in the log line.
		var re *RequestError
		if err != nil && errors.As(err, &re) {
			if ref := strings.TrimSpace(req.ReferenceID); ref != "" && utf8.RuneCountInString(ref) <= MaxReferenceIDLen && printable(ref) {
				re.ReferenceID = ref
			}
		}
	}()
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			if fr != nil && !fr.seen {
				return nil, reqErr(CodeInvalidRequest, "The multipart body is truncated (no closing boundary).")
			}
			break
		}
		if err != nil {
			return nil, bodyError(err, "The multipart body is malformed.")
		}
		nparts++
		if nparts > maxParts {
			part.Close()
			return nil, reqErr(CodeInvalidRequest, fmt.Sprintf("Too many parts in the multipart body (at most %d).", maxParts))
		}
		name := part.FormName()
		switch name {
		case FieldImage1, FieldImage2:
			if seen[name] {
				part.Close()
				return nil, reqErr(CodeInvalidField, "The field "+name+" is given more than once.")
			}
			seen[name] = true
			idx := 0
			if name == FieldImage2 {
				idx = 1
			}
			im, err := readImagePart(part, name, maxImageBytes)
			part.Close()
			if err != nil {
				return nil, err
			}
			images[idx] = im
		case FieldReferenceID, FieldConsent, FieldConsentPurpose, FieldThreshold, FieldLiveness, FieldSingleFace:
			if seen[name] {
				part.Close()
				return nil, reqErr(CodeInvalidField, "The field "+name+" is given more than once.")
			}
			seen[name] = true
			v, err := readText(part, name)
			part.Close()
			if err != nil {
				return nil, err
			}
			switch name {
			case FieldReferenceID:
				req.ReferenceID, haveRef = v, true
			case FieldConsent:
				consent = v
			case FieldConsentPurpose:
				req.ConsentPurpose, havePurp = v, true
			case FieldThreshold:
				thrText = v
			case FieldLiveness:
				livText = v
			case FieldSingleFace:
				switch strings.TrimSpace(v) {
				case "Y", "y":
					req.SingleFace = true
				case "", "N", "n":
				default:
					return nil, reqErr(CodeInvalidField, "The field single_face must be Y or N.")
				}
			}
		default:
			// Unknown parts are drained (bounded by the body cap) and ignored.
			_, err := io.Copy(io.Discard, part)
			part.Close()
			if err != nil {
				return nil, bodyError(err, "The multipart body is malformed.")
			}
		}
	}

	// Validate in a fixed order so a request with several problems always
	// gets the same answer.
	ref := strings.TrimSpace(req.ReferenceID)
	if !haveRef || ref == "" {
		return nil, reqErr(CodeMissingField, "The field reference_id is required.")
	}
	if n := utf8.RuneCountInString(ref); n > MaxReferenceIDLen {
		return nil, reqErr(CodeInvalidField, fmt.Sprintf("The field reference_id is longer than %d characters.", MaxReferenceIDLen))
	}
	if !printable(ref) {
		return nil, reqErr(CodeInvalidField, "The field reference_id must contain printable characters only.")
	}
	req.ReferenceID = ref

	if !seen[FieldConsent] || strings.TrimSpace(consent) == "" {
		return nil, reqErr(CodeConsentRequired, "The field consent is required and must be Y or y.")
	}
	if c := strings.TrimSpace(consent); c != "Y" && c != "y" {
		return nil, reqErr(CodeConsentRequired, "")
	}

	purpose := strings.TrimSpace(req.ConsentPurpose)
	if !havePurp || purpose == "" {
		return nil, reqErr(CodeMissingField, "The field consent_purpose is required.")
	}
	if n := utf8.RuneCountInString(purpose); n > MaxConsentPurposeLen {
		return nil, reqErr(CodeInvalidField, fmt.Sprintf("The field consent_purpose is longer than %d characters.", MaxConsentPurposeLen))
	}
	if !printable(purpose) {
		return nil, reqErr(CodeInvalidField, "The field consent_purpose must contain printable characters only.")
	}
	req.ConsentPurpose = purpose

	if t := strings.TrimSpace(thrText); t != "" {
		v, err := parseDecimal(t)
		if err == nil {
			err = facematch.CheckThreshold(v)
		}
		if err != nil {
			return nil, &RequestError{Code: CodeInvalidThreshold, Message: "The threshold must be a number between 0.70 and 0.95 (got " + strconv.Quote(truncate(t, 32)) + ").", Err: err}
		}
		req.Threshold = v
	}

	switch strings.TrimSpace(livText) {
	case "Y", "y":
		req.Liveness = true
	case "", "N", "n":
	default:
		return nil, reqErr(CodeInvalidField, "The field liveness must be Y or N.")
	}

	for i, im := range images {
		if im == nil {
			n := imageName(i + 1)
			return nil, reqErr(CodeMissingField, "The field "+n+" is required: a JPEG/PNG file upload or an http(s) URL.")
		}
	}
	req.Image1, req.Image2 = *images[0], *images[1]
	return req, nil
}

// readImagePart reads image1/image2: a file part (upload) or a text field
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
