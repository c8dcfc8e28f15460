package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/gallery"
)

// Gallery endpoints (1:N search), served once SetGallery is called; before
// that they answer 404 with CodeGalleryDisabled.
const (
	// PathGalleryEnroll: POST multipart/form-data with reference_id,
	// consent, consent_purpose, id, image (upload or URL), and optionally
	// unique (true/false, default true) and threshold.
	PathGalleryEnroll = "/v2/gallery/enroll"
	// PathGallerySearch: POST multipart/form-data with reference_id,
	// consent, consent_purpose, image, and optionally k and min_percentage.
	PathGallerySearch = "/v2/gallery/search"
	// PathGalleryIdentity: DELETE PathGalleryIdentity + "{id}" removes the
	// identity's template (no body).
	PathGalleryIdentity = "/v2/gallery/identities/"
)

// Fields of the gallery requests (besides reference_id, consent and
// consent_purpose, which follow the face-match rules).
const (
	FieldGalleryID     = "id"
	FieldGalleryImage  = "image"
	FieldUnique        = "unique"
	FieldK             = "k"
	FieldMinPercentage = "min_percentage"
)

// Gallery response codes: their own G series, so they never collide with
// the face-match E codes.
var (
	CodeGalleryDisabled = Code{http.StatusNotFound, "G00001", "error_gallery_disabled", "The gallery is not enabled on this server."}
	CodeDuplicateFace   = Code{http.StatusConflict, "G00002", "error_duplicate_face", "The face is already enrolled under another id."}
	CodeIDExists        = Code{http.StatusConflict, "G00003", "error_id_exists", "The id is already enrolled; delete it first."}
	CodeGalleryStore    = Code{http.StatusServiceUnavailable, "G00004", "error_gallery_store", "The gallery store failed; retry later."}
)

// GalleryCodes returns the gallery response codes (a fresh slice).
func GalleryCodes() []Code { return slices.Clone(galleryCodes) }

var galleryCodes = []Code{CodeGalleryDisabled, CodeDuplicateFace, CodeIDExists, CodeGalleryStore}

// Templater makes face templates; *facematch.Matcher implements it.
type Templater interface {
	Template(ctx context.Context, src facematch.Source) (*facematch.Template, error)
}

type galleryBox struct {
	g gallery.Gallery
	t Templater
}

// SetGallery enables the gallery endpoints on g, with templates made by t
// (both must be of the same model). The Server does not close g.
func (s *Server) SetGallery(g gallery.Gallery, t Templater) {
	if g == nil || t == nil {
		s.gallery.Store(nil)
		return
	}
	s.gallery.Store(&galleryBox{g, t})
}

func (s *Server) registerGallery(mux *http.ServeMux) {
	mux.HandleFunc(PathGalleryEnroll, s.handleGalleryEnroll)
	mux.HandleFunc(PathGallerySearch, s.handleGallerySearch)
	mux.HandleFunc(PathGalleryIdentity, s.handleGalleryDelete)
}

// GalleryEnrollData is the data of a successful (or refused) enrolment.
type GalleryEnrollData struct {
	Status   string `json:"status"` // SUCCESS
	ID       string `json:"id"`
	Enrolled bool   `json:"enrolled"`
	// DuplicateID and Match name the identity a refused face matched
	// (error_duplicate_face).
	DuplicateID string `json:"duplicateId,omitempty"`
	Match       string `json:"match,omitempty"`
}

// GalleryMatch is one search result.
type GalleryMatch struct {
	ID         string  `json:"id"`
	Match      string  `json:"match"` // "95.00%"
	Percentage float64 `json:"percentage"`
}

// GallerySearchData is the data of a search.
type GallerySearchData struct {
	Status  string         `json:"status"`
	Matches []GalleryMatch `json:"matches"`
}

// GalleryDeleteData is the data of a deletion.
type GalleryDeleteData struct {
	Status  string `json:"status"`
	ID      string `json:"id"`
	Removed bool   `json:"removed"`
}

// galleryResponse is the face-match envelope with gallery data.
type galleryResponse struct {
	DecentroTxnID string `json:"decentroTxnId"`
	Status        string `json:"status"`
	ResponseCode  string `json:"responseCode"`
	Message       string `json:"message"`
	Data          any    `json:"data,omitempty"`
	ResponseKey   string `json:"responseKey"`
}

// galleryRequest is a parsed enrol or search request.
type galleryRequest struct {
	referenceID, id string
	image           *Image
	unique          bool
	threshold       float64
	k               int
	minPercentage   float64
}

// galleryPreamble runs what every gallery request needs — method, auth,
// gallery present — and returns the gallery, or false when it answered.
func (s *Server) galleryPreamble(w http.ResponseWriter, r *http.Request, lg *reqLog, method string) (*galleryBox, bool) {
	w.Header().Set("X-Request-Id", lg.txn)
	if r.Method != method {
		w.Header().Set("Allow", method)
		s.fail(w, lg, CodeMethodNotAllowed, "Use "+method+".")
		return nil, false
	}
	if !s.checkAuth(r) {
		s.fail(w, lg, CodeUnauthorized, "")
		return nil, false
	}
	box := s.gallery.Load()
	if box == nil {
		s.fail(w, lg, CodeGalleryDisabled, "")
		return nil, false
	}
	return box, true
}

// serveGallery wraps a gallery handler with recovery and the request log.
func (s *Server) serveGallery(w http.ResponseWriter, r *http.Request, h func(lg *reqLog)) {
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
	h(&lg)
}

func (s *Server) handleGalleryEnroll(w http.ResponseWriter, r *http.Request) {
	s.serveGallery(w, r, func(lg *reqLog) {
		box, ok := s.galleryPreamble(w, r, lg, http.MethodPost)
		if !ok {
			return
		}
		s.withImage(w, r, lg, true, func(ctx context.Context, req *galleryRequest) (any, error) {
			t, err := box.t.Template(ctx, req.image.Source())
			if err != nil {
				return nil, err
			}
			if req.unique {
				err = box.g.EnrollUnique(ctx, req.id, t, req.threshold)
			} else {
				err = box.g.Enroll(ctx, req.id, t)
			}
			var dup *gallery.DuplicateError
			if errors.As(err, &dup) {
				return &GalleryEnrollData{Status: "FAILURE", ID: req.id, DuplicateID: dup.ID, Match: facematch.FormatPercentage(dup.Percentage)}, err
			}
			if err != nil {
				return nil, err
			}
			return &GalleryEnrollData{Status: "SUCCESS", ID: req.id, Enrolled: true}, nil
		})
	})
}

func (s *Server) handleGallerySearch(w http.ResponseWriter, r *http.Request) {
	s.serveGallery(w, r, func(lg *reqLog) {
		box, ok := s.galleryPreamble(w, r, lg, http.MethodPost)
		if !ok {
			return
		}
		s.withImage(w, r, lg, false, func(ctx context.Context, req *galleryRequest) (any, error) {
			t, err := box.t.Template(ctx, req.image.Source())
			if err != nil {
				return nil, err
			}
			ms, err := box.g.Search(ctx, t, &gallery.SearchOptions{K: req.k, MinPercentage: req.minPercentage})
			if err != nil {
				return nil, err
			}
			out := &GallerySearchData{Status: "SUCCESS", Matches: []GalleryMatch{}}
			for _, m := range ms {
				out.Matches = append(out.Matches, GalleryMatch{ID: m.ID, Match: facematch.FormatPercentage(m.Percentage), Percentage: m.Percentage})
			}
			return out, nil
		})
	})
}

func (s *Server) handleGalleryDelete(w http.ResponseWriter, r *http.Request) {
	s.serveGallery(w, r, func(lg *reqLog) {
		box, ok := s.galleryPreamble(w, r, lg, http.MethodDelete)
		if !ok {
			return
		}
		id := strings.TrimPrefix(r.URL.Path, PathGalleryIdentity)
		if err := gallery.CheckID(id); err != nil || strings.Contains(id, "/") {
			s.fail(w, lg, CodeInvalidField, "The id in the path is missing or invalid (1 to 255 bytes, no control characters, no slash).")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		n, err := box.g.Remove(ctx, id)
		if err != nil {
			s.galleryFail(w, r, lg, err)
			return
		}
		s.gallerySuccess(w, lg, &GalleryDeleteData{Status: "SUCCESS", ID: id, Removed: n > 0})
	})
}

// withImage admits, parses and processes an enrol (enroll == true) or
// search request under the same limits as face match: an upload slot while
// the body arrives, a compare slot while the face is processed, the
// request timeout.
func (s *Server) withImage(w http.ResponseWriter, r *http.Request, lg *reqLog, enroll bool, do func(ctx context.Context, req *galleryRequest) (any, error)) {
	if !tryAcquire(s.uploads) {
		s.overloaded(w, lg)
		return
	}
	defer func() { <-s.uploads }()
	r.Body = http.MaxBytesReader(w, r.Body, s.maxImage+bodyMargin)
	req, err := parseGalleryRequest(r, s.maxImage, enroll)
	if err != nil {
		lg.err = err
		c, msg := classify(err)
		if c == CodeTooLarge {
			w.Header().Set("Connection", "close")
		}
		s.fail(w, lg, c, msg)
		return
	}
	lg.ref = req.referenceID
	lg.img = []string{req.image.Kind()}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
	defer cancel()
	// A compare slot, in the same queue as face match (no decode budget is
	// charged: one image, under the same pixel limits).
	t, _, err := s.adm.acquire(ctx, 0)
	if err != nil {
		lg.err = err
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			w.Header().Set("Retry-After", s.adm.retryAfter(s.retryMin))
			s.fail(w, lg, CodeTimeout, "")
			return
		}
		s.overloaded(w, lg)
		return
	}
	defer t.releaseSlot()
	data, err := do(ctx, req)
	if err != nil {
		if r.Context().Err() != nil {
			lg.err, lg.outcome, lg.status = err, "client_closed", 499
			return
		}
		if errors.Is(err, gallery.ErrDuplicate) {
			lg.err = err
			c := CodeDuplicateFace
			lg.outcome, lg.status, lg.detail = c.ResponseKey, c.Status, err.Error()
			writeJSON(w, c.Status, &galleryResponse{DecentroTxnID: lg.txn, Status: "FAILURE", ResponseCode: c.ResponseCode,
				Message: c.Message, Data: data, ResponseKey: c.ResponseKey})
			return
		}
		s.galleryFail(w, r, lg, err)
		return
	}
	s.gallerySuccess(w, lg, data)
}

func (s *Server) gallerySuccess(w http.ResponseWriter, lg *reqLog, data any) {
	lg.outcome, lg.status = SuccessKey, http.StatusOK
	writeJSON(w, http.StatusOK, &galleryResponse{DecentroTxnID: lg.txn, Status: "SUCCESS", ResponseCode: SuccessCode,
		Message: SuccessMessage, Data: data, ResponseKey: SuccessKey})
}

// galleryFail maps gallery errors to their codes and the rest as face
// match does.
func (s *Server) galleryFail(w http.ResponseWriter, r *http.Request, lg *reqLog, err error) {
	lg.err = err
	var c Code
	msg := ""
	switch {
	case errors.Is(err, gallery.ErrExists):
		c = CodeIDExists
	case errors.Is(err, gallery.ErrInvalidID), errors.Is(err, gallery.ErrInvalidSearch):
		c, msg = CodeInvalidField, err.Error()
	case errors.Is(err, gallery.ErrStore), errors.Is(err, gallery.ErrClosed), errors.Is(err, facematch.ErrTemplateModel):
		// A store of another model is a deployment error, not the client's.
		c = CodeGalleryStore
		w.Header().Set("Retry-After", s.retryAfter)
	default:
		c, msg = classify(err)
		if c == CodeTimeout || c == CodeOverloaded {
			w.Header().Set("Retry-After", s.retryAfter)
		}
	}
	s.fail(w, lg, c, msg)
}

// parseGalleryRequest streams a multipart gallery request: text fields of at
// most maxTextField bytes, one image of at most maxImageBytes.
func parseGalleryRequest(r *http.Request, maxImageBytes int64, enroll bool) (*galleryRequest, error) {
	req := &galleryRequest{unique: true}
	text, err := readGalleryParts(r, maxImageBytes, req)
	if err != nil {
		return nil, err
	}
	if req.referenceID, err = checkConsentFields(text); err != nil {
		return nil, err
	}
	if req.image == nil {
		return nil, reqErr(CodeMissingField, "The field image is required: a JPEG/PNG file upload or an http(s) URL.")
	}
	fields := searchFields
	if enroll {
		fields = enrollFields
	}
	if err := fields(text, req); err != nil {
		return nil, err
	}
	return req, nil
}

// readGalleryParts reads the parts of a gallery request: the image into
// req.image, the known text fields into the returned map (each at most
// once), and discards the rest.
func readGalleryParts(r *http.Request, maxImageBytes int64, req *galleryRequest) (map[string]string, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, reqErr(CodeUnsupportedContent, "The request body must be multipart/form-data.")
	}
	boundary := params["boundary"]
	if boundary == "" || len(boundary) > 70 {
		return nil, reqErr(CodeInvalidRequest, "The multipart/form-data Content-Type has no valid boundary.")
	}
	mr := multipart.NewReader(r.Body, boundary)
	text := map[string]string{}
	for parts := 0; ; parts++ {
		if parts >= maxParts {
			return nil, reqErr(CodeInvalidRequest, fmt.Sprintf("Too many parts in the multipart body (at most %d).", maxParts))
		}
		part, err := mr.NextPart()
		if err == io.EOF {
			return text, nil
		}
		if err != nil {
			return nil, bodyError(err, "The multipart body could not be read.")
		}
		name := part.FormName()
		switch name {
		case FieldGalleryImage:
			if req.image != nil {
				return nil, reqErr(CodeInvalidField, "The field image is given more than once.")
			}
			if req.image, err = readImagePart(part, name, maxImageBytes); err != nil {
				return nil, err
			}
		case FieldReferenceID, FieldConsent, FieldConsentPurpose, FieldGalleryID, FieldUnique, FieldThreshold, FieldK, FieldMinPercentage:
			if _, dup := text[name]; dup {
				return nil, reqErr(CodeInvalidField, "The field "+name+" is given more than once.")
			}
			if text[name], err = readText(part, name); err != nil {
				return nil, err
			}
		default:
			// Unknown fields are read and ignored, as face match does.
			if _, err := io.Copy(io.Discard, io.LimitReader(part, maxImageBytes+1)); err != nil {
				return nil, bodyError(err, "The multipart body could not be read.")
			}
		}
		part.Close()
	}
}

// checkConsentFields checks the fields every gallery request carries and
// returns the reference id.
func checkConsentFields(text map[string]string) (string, error) {
	referenceID := strings.TrimSpace(text[FieldReferenceID])
	switch {
	case referenceID == "":
		return "", reqErr(CodeMissingField, "The field reference_id is required.")
	case len([]rune(referenceID)) > MaxReferenceIDLen:
		return "", reqErr(CodeInvalidField, fmt.Sprintf("The field reference_id is longer than %d characters.", MaxReferenceIDLen))
	case !printable(referenceID):
		return "", reqErr(CodeInvalidField, "The field reference_id must contain printable characters only.")
	}
	if c := strings.TrimSpace(text[FieldConsent]); c != "Y" && c != "y" {
		return "", reqErr(CodeConsentRequired, "The field consent is required and must be Y or y.")
	}
	purpose := strings.TrimSpace(text[FieldConsentPurpose])
	switch {
	case purpose == "":
		return "", reqErr(CodeMissingField, "The field consent_purpose is required.")
	case len([]rune(purpose)) > MaxConsentPurposeLen:
		return "", reqErr(CodeInvalidField, fmt.Sprintf("The field consent_purpose is longer than %d characters.", MaxConsentPurposeLen))
	case !printable(purpose):
		return "", reqErr(CodeInvalidField, "The field consent_purpose must contain printable characters only.")
	}
	return referenceID, nil
}

// enrollFields reads an enrolment's id, unique and threshold into req.
func enrollFields(text map[string]string, req *galleryRequest) error {
	req.id = text[FieldGalleryID]
	if _, given := text[FieldGalleryID]; !given || req.id == "" {
		return reqErr(CodeMissingField, "The field id is required.")
	}
	if err := gallery.CheckID(req.id); err != nil {
		return reqErr(CodeInvalidField, "The field id must be 1 to 255 bytes of UTF-8 without control characters.")
	}
	if v, ok := text[FieldUnique]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return reqErr(CodeInvalidField, "The field unique must be true or false.")
		}
		req.unique = b
	}
	req.threshold = gallery.DefaultUniqueThreshold
	if v, ok := text[FieldThreshold]; ok {
		f, err := parseDecimal(strings.TrimSpace(v))
		if err != nil || gallery.CheckUniqueThreshold(f) != nil {
			return reqErr(CodeInvalidThreshold, fmt.Sprintf("The threshold of an enrolment must be a number between 0.70 and %g.", gallery.MaxUniqueThreshold))
		}
		req.threshold = f
	}
	return nil
}

// searchFields reads a search's k and min_percentage into req.
func searchFields(text map[string]string, req *galleryRequest) error {
	req.k = gallery.DefaultK
	if v, ok := text[FieldK]; ok {
		k, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || k < 1 || k > gallery.MaxK {
			return reqErr(CodeInvalidField, fmt.Sprintf("The field k must be a whole number from 1 to %d.", gallery.MaxK))
		}
		req.k = k
	}
	if v, ok := text[FieldMinPercentage]; ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(f >= 0 && f <= 100) {
			return reqErr(CodeInvalidField, "The field min_percentage must be a number from 0 to 100.")
		}
		req.minPercentage = f
	}
	return nil
}
