// Package server is the HTTP face-match service: an http.Handler that
// exposes a facematch.Matcher with the KYC request/response contract, so
// `facematch serve` can stand in for a hosted face-match API and a Go
// program can mount the same handler in its own mux.
//
// # Endpoint
//
//	POST /v2/kyc/forensics/face_match   (multipart/form-data)
//
// Fields:
//
//	reference_id     required, 1-100 printable characters
//	consent          required, "Y" or "y" (anything else is refused)
//	consent_purpose  required, 1-200 printable characters
//	threshold        optional, default 0.70, within [0.70, 0.95]
//	image1, image2   each a JPEG/PNG file part (≤ 6 MB) or a text field
//	                 holding an http(s) URL, in any mix
//
// A scan that worked answers 200 with
//
//	{"decentroTxnId": "…", "status": "SUCCESS", "responseCode": "S00000",
//	 "message": "Face scan completed successfully.",
//	 "data": {"status": "SUCCESS", "match": "95.00%", "isMatch": true, "threshold": 0.7},
//	 "responseKey": "success_face_scan"}
//
// where data.match is the calibrated match percentage and data.isMatch the
// verdict at the threshold (a non-match is still a successful scan). Every
// failure uses the same envelope with "status": "FAILURE", an E-prefixed
// responseCode, a human message (naming the field or the image at fault)
// and a stable responseKey; Codes lists the table and OpenAPI holds the
// OpenAPI 3 document (also served at /openapi.yaml). decentroTxnId is a
// random 128-bit id, also sent as X-Request-Id and written to the log.
//
// GET /healthz answers 200 while the process is up; GET /readyz answers
// 200 once a Matcher is installed (New with a non-nil Matcher, or
// SetMatcher), so a process can listen while its models load.
//
// # Hardening
//
// The multipart body is streamed part by part (never spooled to memory or
// temporary files by the standard library's form parser): each image is
// read up to MaxImageBytes+1 bytes and refused with 413 beyond, the whole
// body is capped with http.MaxBytesReader at BodyLimit, text fields are
// read up to 4 KB, and at most 16 parts are accepted. Two limits keep the
// service responsive under load: at most Options.MaxConcurrent requests
// (default the number of CPUs) are compared at once, and at most
// Options.MaxUploads (default 4 × MaxConcurrent) are admitted at all,
// bodies still arriving included. A request beyond either limit is refused
// at once with 503 and Retry-After — beyond MaxUploads before its body is
// read, so memory stays bounded (about MaxUploads × BodyLimit) and slow
// uploaders never hold a compare slot. Each request has a
// processing deadline (Options.RequestTimeout); a Matcher that overruns it
// is answered 503 and keeps its slot until it really returns. Panics are
// recovered and answered 500 without detail. NewHTTPServer sets the read,
// write, header and idle timeouts the handler expects.
//
// Image URLs are fetched by the Matcher (facematch.Options): http/https
// only, ≤ 3 redirects, a timeout, the 6 MB cap while streaming, and
// loopback/private/link-local destinations refused unless
// AllowPrivateURLs is set; the handler only checks the URL's syntax.
//
// Optional credentials: with Options.ClientID/ClientSecret set, requests
// need matching client_id and client_secret headers (compared in constant
// time), else 401.
//
// Each face-match request logs one log/slog line with the transaction id,
// reference_id, image kinds (upload/url), outcome (the responseKey),
// HTTP status and latency — never image bytes or credentials.
package server
