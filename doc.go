// Package facematch tells whether two images show the same person, for
// identity checks (KYC): hand it the photo from an identity document and a
// selfie, get a calibrated match percentage and a verdict against a
// threshold. It is pure Go (no cgo); the face detector cascades and the
// MobileFaceNet model are compiled into the binary.
//
// # Comparing two images
//
// Create one Matcher and share it: it is safe for concurrent use, and the
// same inputs always give bit-identical results.
//
//	m, err := facematch.New(nil) // nil: default options
//	if err != nil { ... }
//	res, err := m.Compare(ctx,
//		facematch.File("id_card.jpg"),                     // image1: the reference
//		facematch.URL("https://example.com/selfie.png"),   // image2
//		nil)                                               // threshold 0.70
//	if err != nil { ... }
//	fmt.Println(res.Match, res.PercentageText()) // true 97.12%
//
// Each image is a Source: Bytes, Reader, File, URL or an already decoded
// Image, in any combination. Encoded images are sniffed from their content
// (JPEG and PNG only; the JPEG EXIF orientation is applied), limited to
// Options.MaxImageBytes (6 MB) while being read, and refused from their
// header when they announce too many pixels (Options.MaxPixels, 40 million).
//
// The pipeline is decode → detect (package detect: boxes and five
// landmarks) → align (package align: 112x112 crop) → embed (package embed:
// 192-d MobileFaceNet embedding) → compare (package compare: cosine
// similarity, calibrated percentage, threshold).
//
// # Which face is compared
//
// Each image contributes its largest usable face: the holder of a
// document photo, the person taking a selfie. Faces are ranked by the area
// of their box inside the picture (package detect), so a head cut by the
// frame's edge counts only its visible part. A selfie that also shows an
// ID card held up beside the face is a normal KYC selfie: the card's small
// portrait is counted but not compared. A competing face — another face in
// image2 at least CompetingFaceRatio (half) as wide as its largest, i.e. a
// second person — sets Result.MultipleFaces; with
// CompareOptions.RequireSingleFace it is an error (ErrMultipleFaces)
// instead. Nothing else in image2 can raise the score: a card or a
// collage of faces does not get to compete with the holder.
//
// CompareOptions.BestFace searches image2's faces for the one most similar
// to image1's instead (to find a person in a group photo). That is not an
// identity check: every extra face is another chance of a false accept,
// and the calibration's false-accept rate holds per compared face only.
// The README's face-policy section records both false-accept rates, dated,
// with the command that measured them.
//
// The Result reports, for both images, every face found (box, five
// landmarks, detector score), which one was used and its aligned crop.
//
// # Percentage and threshold
//
// Result.Similarity is the cosine similarity of the two embeddings after the
// bundled score normalisation (compare.Similarity); Result.Percentage maps it
// through a logistic calibration (see package compare) to a confidence in
// [0, 100], rounded once to two decimals — the figure PercentageText shows —
// and the verdict is taken on that rounded figure (compare.Meets):
//
//	Match = Percentage >= 100*Threshold   (both to two decimals)
//
// so 69.995 shows as 70.00% and matches at 0.70, and nothing that shows
// as 70.00% is ever rejected at 0.70.
//
// The threshold is a fraction in [MinThreshold, MaxThreshold] = [0.70, 0.95]
// (CompareOptions.Threshold, checked by CheckThreshold; 0 means
// DefaultThreshold, 0.70), and FormatPercentage is the "95.00%" text the KYC
// API reports. The calibration places 0.70 at the cosine where
// 0.1 % of impostor pairs are accepted; higher thresholds accept fewer
// impostors and reject more genuine pairs. Package compare documents the
// calibration and what each threshold means.
//
// # URL images
//
// URL sources are fetched with GET: http and https only, Options.FetchTimeout
// (15 s) for the whole transfer, at most 3 redirects. Unless
// Options.AllowPrivateURLs is set, every connection — the first and each
// redirect's — is refused when the address it is about to connect to, after
// DNS resolution, is loopback, private, link-local, unspecified, multicast or
// another non-public range. The check runs in the dialer on the address
// actually dialled, so DNS rebinding cannot get around it, and proxies are
// not used.
//
// # Errors
//
// Every error a caller can cause wraps one of the exported sentinels below;
// test with errors.Is. Errors about one image of Compare are an
// *ImageError whose Image field (1 or 2) says which, and whose message
// starts with "image1: " or "image2: ".
//
//	error                 cause
//	ErrInvalidThreshold   threshold outside [0.70, 0.95] (or NaN)
//	ErrUnsupportedFormat  content is not JPEG or PNG
//	ErrTooLarge           more than MaxImageBytes (6 MB) of image data
//	ErrImageTooLarge      header announces more than MaxPixels pixels
//	ErrCorruptImage       empty, truncated or undecodable image
//	ErrNoFace             no usable face in the image
//	ErrMultipleFaces      RequireSingleFace and image2 has a competing face
//	ErrInvalidURL         not an absolute http(s) URL (also on redirect)
//	ErrForbiddenURL       URL or redirect leads to a non-public address
//	ErrFetch              connection/DNS error, non-2xx, > 3 redirects
//	ErrFetchTimeout       fetch exceeded FetchTimeout or the ctx deadline
//	ErrNotAligned         EmbedAligned: image is not 112x112
//	ErrNilSource          nil Source, Image(nil), Reader(nil)
//	ErrInvalidOptions     New: an Options field is out of range
//	ErrInternal           a bug: recovered panic, engine failure
//	ErrTemplateFormat     not a template, or a format version unknown here
//	ErrTemplateModel      template made by another model or embed options
//	ErrTooManyCandidates  CompareMany: not 1 to MaxCandidates candidates
//
// A missing or unreadable File is reported with the os error
// (errors.Is(err, fs.ErrNotExist)); a cancelled context with ctx.Err().
// No panic escapes the package: panics are recovered at the API boundary and
// returned as ErrInternal. The HTTP service (package server) maps each of
// these errors to a status and a response code.
//
// # Other entry points
//
// Matcher.Detect returns the decoded image and all its faces (none is not an
// error); Matcher.Embed returns the embedding of the largest face (a face
// template to store; the very vector Compare uses for that image);
// Matcher.EmbedAligned embeds an already aligned crop. Matcher.Template
// returns a versioned face template (template.go documents the format) that
// CompareTemplates compares with Compare's percentage, and package gallery
// searches one against many. Matcher.CompareMany compares one reference with
// several images. The command cmd/facematch exposes these on the command
// line and serves the HTTP API.
package facematch
