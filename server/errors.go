package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/facematch/facematch"
)

// Code is one row of the service's error table: the HTTP status, the
// E-prefixed responseCode and the stable responseKey a client can switch on.
// The message in a response may add detail (which field, which image); the
// Status, ResponseCode and ResponseKey of a given condition never change.
type Code struct {
	Status       int    // HTTP status
	ResponseCode string // "E00001"...
	ResponseKey  string // stable machine-readable key
	Message      string // default human message
}

// The error table. Codes lists them in order; the README and openapi.yaml
// publish the same table.
var (
	CodeInvalidRequest     = Code{http.StatusBadRequest, "E00001", "error_invalid_request", "The request body must be multipart/form-data."}
	CodeMissingField       = Code{http.StatusBadRequest, "E00002", "error_missing_field", "A required field is missing or empty."}
	CodeInvalidField       = Code{http.StatusBadRequest, "E00003", "error_invalid_field", "A field has an invalid value."}
	CodeConsentRequired    = Code{http.StatusBadRequest, "E00004", "error_consent_required", "Consent must be given: the consent field must be Y or y."}
	CodeInvalidThreshold   = Code{http.StatusBadRequest, "E00005", "error_invalid_threshold", "The threshold must be a number between 0.70 and 0.95."}
	CodeInvalidURL         = Code{http.StatusBadRequest, "E00006", "error_invalid_url", "The image URL is invalid: only http and https URLs are accepted."}
	CodeForbiddenURL       = Code{http.StatusBadRequest, "E00007", "error_forbidden_url", "The image URL points to a loopback, private or link-local address."}
	CodeUnauthorized       = Code{http.StatusUnauthorized, "E00008", "error_unauthorized", "Missing or invalid client_id/client_secret."}
	CodeNotFound           = Code{http.StatusNotFound, "E00009", "error_not_found", "No such endpoint."}
	CodeMethodNotAllowed   = Code{http.StatusMethodNotAllowed, "E00010", "error_method_not_allowed", "Method not allowed."}
	CodeTooLarge           = Code{http.StatusRequestEntityTooLarge, "E00011", "error_image_too_large", "The image is larger than the allowed size."}
	CodeUnsupportedFormat  = Code{http.StatusUnsupportedMediaType, "E00012", "error_unsupported_format", "Unsupported image format: only JPEG and PNG are accepted."}
	CodeNoFace             = Code{http.StatusUnprocessableEntity, "E00013", "error_no_face", "No face was found in the image."}
	CodeCorruptImage       = Code{http.StatusUnprocessableEntity, "E00014", "error_corrupt_image", "The image could not be read: it is empty, truncated or corrupt."}
	CodeImageDimensions    = Code{http.StatusUnprocessableEntity, "E00015", "error_image_dimensions", "The image dimensions are too large."}
	CodeFetchFailed        = Code{http.StatusBadGateway, "E00016", "error_url_fetch_failed", "The image URL could not be fetched."}
	CodeFetchTimeout       = Code{http.StatusGatewayTimeout, "E00017", "error_url_fetch_timeout", "Fetching the image URL timed out."}
	CodeOverloaded         = Code{http.StatusServiceUnavailable, "E00018", "error_server_busy", "The server is busy; retry later."}
	CodeNotReady           = Code{http.StatusServiceUnavailable, "E00019", "error_not_ready", "The face models are still loading; retry later."}
	CodeTimeout            = Code{http.StatusServiceUnavailable, "E00020", "error_request_timeout", "The request took too long to process; retry later."}
	CodeInternal           = Code{http.StatusInternalServerError, "E00021", "error_internal", "Internal server error."}
	CodeUnsupportedContent = Code{http.StatusUnsupportedMediaType, "E00022", "error_unsupported_content_type", "The request body must be multipart/form-data."}
	CodeMultipleFaces      = Code{http.StatusUnprocessableEntity, "E00023", "error_multiple_faces", "image2 shows more than one person (single_face=Y): another face is at least half as wide as the largest."}
	// CodeBodyTimeout: the body arrived slower than the minimum upload
	// rate (Options.MinUploadRate after Options.UploadGrace) or not within
	// Options.BodyTimeout.
	CodeBodyTimeout = Code{http.StatusRequestTimeout, "E00024", "error_body_timeout", "The request body was sent too slowly."}
)

// Codes returns the whole error table in responseCode order (a fresh
// slice).
func Codes() []Code { return slices.Clone(codes) }

var codes = []Code{
	CodeInvalidRequest, CodeMissingField, CodeInvalidField, CodeConsentRequired,
	CodeInvalidThreshold, CodeInvalidURL, CodeForbiddenURL, CodeUnauthorized,
	CodeNotFound, CodeMethodNotAllowed, CodeTooLarge, CodeUnsupportedFormat,
	CodeNoFace, CodeCorruptImage, CodeImageDimensions, CodeFetchFailed,
	CodeFetchTimeout, CodeOverloaded, CodeNotReady, CodeTimeout, CodeInternal,
	CodeUnsupportedContent, CodeMultipleFaces, CodeBodyTimeout,
}

// Success response constants.
const (
	SuccessCode    = "S00000"
	SuccessKey     = "success_face_scan"
	SuccessMessage = "Face scan completed successfully."
)

// RequestError is an error found while reading or validating a request. It
// carries the table row and a message for the client (which never contains
// internal detail).
type RequestError struct {
	Code    Code
	Message string // client-facing; Code.Message when empty
	Err     error  // underlying cause, for errors.Is and logs
	// ReferenceID is the request's reference_id when it was read and
	// valid before the error was found (for the log line), else "".
	ReferenceID string
}

func (e *RequestError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Code.Message
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code.ResponseKey, msg, e.Err)
	}
	return e.Code.ResponseKey + ": " + msg
}

func (e *RequestError) Unwrap() error { return e.Err }

func reqErr(c Code, msg string) *RequestError { return &RequestError{Code: c, Message: msg} }

// imageName is "image1", "image2" … (or "" for 0).
func imageName(i int) string {
	if i >= 1 {
		return fmt.Sprintf("image%d", i)
	}
	return ""
}

// classify maps an error returned by request parsing or by Matcher.Compare
// to a table row and a client-facing message. Internal errors get a generic
// message: their detail goes only to the log.
func classify(err error) (Code, string) {
	var re *RequestError
	if errors.As(err, &re) {
		if re.Message != "" {
			return re.Code, re.Message
		}
		return re.Code, re.Code.Message
	}
	img := 0
	var ie *facematch.ImageError
	if errors.As(err, &ie) {
		img = ie.Image
	}
	prefix := func(c Code, detail string) (Code, string) {
		msg := c.Message
		if detail != "" {
			msg = detail
		}
		if n := imageName(img); n != "" {
			return c, n + ": " + msg
		}
		return c, msg
	}
	switch {
	case errors.Is(err, facematch.ErrNoFace):
		return prefix(CodeNoFace, "")
	case errors.Is(err, facematch.ErrMultipleFaces):
		return CodeMultipleFaces, CodeMultipleFaces.Message
	case errors.Is(err, facematch.ErrTooLarge):
		return prefix(CodeTooLarge, "")
	case errors.Is(err, facematch.ErrImageTooLarge):
		return prefix(CodeImageDimensions, "")
	case errors.Is(err, facematch.ErrUnsupportedFormat):
		return prefix(CodeUnsupportedFormat, "")
	case errors.Is(err, facematch.ErrCorruptImage):
		return prefix(CodeCorruptImage, "")
	case errors.Is(err, facematch.ErrInvalidThreshold):
		return CodeInvalidThreshold, CodeInvalidThreshold.Message
	case errors.Is(err, facematch.ErrForbiddenURL):
		return prefix(CodeForbiddenURL, "")
	case errors.Is(err, facematch.ErrInvalidURL):
		return prefix(CodeInvalidURL, "")
	case errors.Is(err, facematch.ErrFetchTimeout):
		return prefix(CodeFetchTimeout, "")
	case errors.Is(err, facematch.ErrFetch):
		return prefix(CodeFetchFailed, "")
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout, CodeTimeout.Message
	}
	return CodeInternal, CodeInternal.Message
}
