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
//	image3 … image10 optional further images, each compared with image1
//	                 as image2 is (the answer adds data.best and
//	                 data.results, one entry per candidate; see many.go)
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
// body is capped at BodyLimit, raised by MaxImageBytes for each further
// image (BodyLimitFor), text fields are read up to 4 KB, and at most 24
// parts are accepted.
//
// # Under load
//
// A request passes through bounded steps, so that cheap hostile requests
// cannot lock others out or exhaust memory:
//
//   - Admission: at most Options.MaxUploads requests are in progress (body
//     arriving, fetching, queued or compared); one more is answered 503
//     before its body is read. Options.MaxPerClient optionally caps one
//     remote address (off by default: clients behind a gateway share one).
//     Each body's Content-Length (when unknown, BodyLimit, grown by each
//     further image as it arrives) is reserved against Options.BodyBudget
//     before it is read; one that does not fit is answered 503.
//   - Body: after Options.UploadGrace the body must keep an average of
//     Options.MinUploadRate bytes per second (the connection's read
//     deadline moves with the bytes received), else 408
//     error_body_timeout.
//   - Fetch: image URLs are fetched by the server (through
//     facematch.Matcher.Fetch, with the Matcher's URL policy) in a pool of
//     Options.MaxFetches, before a compare slot is taken.
//   - Memory: the decode memory of both images is estimated from their
//     headers (facematch.Matcher.DecodeCost) and charged to a process-wide
//     budget (Options.MemoryBudget, a golang.org/x/sync/semaphore weighted
//     semaphore) while the comparison runs; a request that alone exceeds
//     it is answered 422 error_image_dimensions.
//   - Queue: requests wait in arrival order (FIFO) for their memory and a
//     compare slot (Options.MaxConcurrent), up to Options.MaxQueue waiting
//     and Options.QueueTimeout of wait; then 503 with a Retry-After
//     estimated from the queue length and the recent service time.
//   - Compare: within Options.RequestTimeout. When it passes the client is
//     answered 503 error_request_timeout and the slot is given back; the
//     memory stays charged until the abandoned comparison returns.
//
// Panics are recovered and answered 500 without detail. NewHTTPServer sets
// the read, write, header and idle timeouts the handler expects, and
// WrapListener makes the errors net/http answers itself (bad or slow
// request headers) use the JSON envelope. Paths not in clean form are
// answered 404 in the envelope, never redirected. Credentials are checked
// before the method (401 before 405).
//
// Image URLs follow the Matcher's policy (facematch.Options): http/https
// only, ≤ 3 redirects, a timeout, the 6 MB cap while streaming, and
// loopback, private, link-local and other non-public destinations —
// including numeric host forms such as 2130706433 or 127.1, and
// localhost. — refused unless AllowPrivateURLs is set.
//
// # Metrics
//
// PathMetrics (/metrics) serves Prometheus metrics: requests by
// responseCode, stage latency histograms (fetch, decode, detect, embed,
// total; pass Server.ObserveStage as facematch.Options.StageObserver for
// the middle three), requests in flight, queue length and wait, memory
// budget and use, and the Go runtime and process collectors.
//
// Optional credentials: with Options.ClientID/ClientSecret set, requests
// need matching client_id and client_secret headers (compared in constant
// time), else 401.
//
// Each face-match request logs one log/slog line with the transaction id,
// reference_id, image kinds (upload/url), outcome (the responseKey),
// HTTP status and latency — never image bytes or credentials; image URLs
// are logged without userinfo, query or fragment.
package server
