package server

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

const fuzzBoundary = "fuzzBoundary1234"

// fuzzBody encodes parts with the fixed fuzz boundary.
func fuzzBody(t testing.TB, parts ...part) []byte {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(fuzzBoundary); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, _ := mw.CreatePart(h)
		_, _ = w.Write(p.data)
	}
	_ = mw.Close()
	return buf.Bytes()
}

func parseBytes(body []byte, oneByte bool, maxImage int64) (*Request, error) {
	var r io.Reader = bytes.NewReader(body)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	req, _ := http.NewRequest(http.MethodPost, "/", io.NopCloser(r))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
	req.Body = http.MaxBytesReader(nil, req.Body, BodyLimit(maxImage))
	return ParseRequest(req, maxImage)
}

// FuzzParseRequest feeds arbitrary multipart bodies to the parser: it must
// never panic, every error must be a *RequestError from the table, a
// success must satisfy every documented constraint, and reading the body
// one byte at a time must give the same answer as reading it in chunks.
func FuzzParseRequest(f *testing.F) {
	img := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	valid := append(validFields(), file(FieldImage1, "a.png", img), field(FieldImage2, "https://example.com/b.jpg"))
	seeds := [][]part{
		valid,
		append(validFields(), field(FieldThreshold, "0.8"), field(FieldImage1, "http://a/1"), field(FieldImage2, "http://b/2")),
		append(validFields(), file(FieldImage1, "a.png", nil), file(FieldImage2, "b.png", img)),
		append(validFields(), field(FieldThreshold, "0.99"), file(FieldImage1, "a.png", img), file(FieldImage2, "b", img)),
		append(validFields()[1:], file(FieldImage1, "a.png", img), file(FieldImage2, "b", img)),
		append(validFields(), field(FieldConsent, "N")),
		append(validFields(), field(FieldImage1, "ftp://x/y"), field(FieldImage2, "")),
		{field(FieldReferenceID, strings.Repeat("x", 101))},
		{part{name: FieldImage1, contentType: "image/jpeg", data: []byte{0xFF, 0xD8, 0xFF, 0xE0}}},
		nil,
	}
	for _, s := range seeds {
		f.Add(fuzzBody(f, s...))
	}
	v := fuzzBody(f, valid...)
	f.Add(v[:len(v)/2])                                                          // truncated
	f.Add(v[:len(v)-4])                                                          // no closing boundary
	f.Add(bytes.ReplaceAll(v, []byte("\r\n"), []byte("\n")))                     // bare LF
	f.Add(bytes.ReplaceAll(v, []byte(`name="consent"`), []byte(`name=consent`))) // unquoted
	f.Add([]byte("--" + fuzzBoundary + "--\r\n"))
	f.Add([]byte("garbage"))

	const maxImage = 1 << 10
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBytes(body, false, maxImage)
		req1, err1 := parseBytes(body, true, maxImage)
		if (err == nil) != (err1 == nil) {
			t.Fatalf("chunked read: %v; one-byte read: %v", err, err1)
		}
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a *RequestError", err, err)
			}
			if c, msg := classify(err); c.Status < 400 || c.Status >= 500 || msg == "" {
				t.Fatalf("error %v classified as %+v %q", err, c, msg)
			}
			var re1 *RequestError
			errors.As(err1, &re1)
			if re.Code != re1.Code {
				t.Fatalf("chunked read %v, one-byte read %v", err, err1)
			}
			return
		}
		if req.ReferenceID == "" || utf8.RuneCountInString(req.ReferenceID) > MaxReferenceIDLen || !printable(req.ReferenceID) {
			t.Fatalf("bad reference_id accepted: %q", req.ReferenceID)
		}
		if req.ConsentPurpose == "" || utf8.RuneCountInString(req.ConsentPurpose) > MaxConsentPurposeLen {
			t.Fatalf("bad consent_purpose accepted: %q", req.ConsentPurpose)
		}
		if !(req.Threshold >= MinThreshold && req.Threshold <= MaxThreshold) {
			t.Fatalf("threshold %v accepted", req.Threshold)
		}
		for _, im := range []Image{req.Image1, req.Image2} {
			if im.URL != "" && (len(im.Data) != 0 || checkURL(im.URL) != nil) {
				t.Fatalf("bad image %+v", im)
			}
			if int64(len(im.Data)) > maxImage {
				t.Fatalf("image of %d bytes accepted", len(im.Data))
			}
		}
		if req.ReferenceID != req1.ReferenceID || req.Threshold != req1.Threshold ||
			!bytes.Equal(req.Image1.Data, req1.Image1.Data) || req.Image2.URL != req1.Image2.URL {
			t.Fatalf("chunked and one-byte reads differ: %+v vs %+v", req, req1)
		}
	})
}

// TestImageCapBoundary: an image of exactly the cap is accepted, one byte
// more is 413, for uploads and for raw bytes in a plain field alike.
func TestImageCapBoundary(t *testing.T) {
	const maxImage = 4096
	img := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, maxImage-8)...)
	for _, asFile := range []bool{true, false} {
		mk := func(data []byte) part {
			if asFile {
				return file(FieldImage2, "b.png", data)
			}
			return part{name: FieldImage2, data: data}
		}
		req, err := parseBytes(fuzzBody(t, append(validFields(), field(FieldImage1, "https://example.com/a.jpg"), mk(img))...), false, maxImage)
		if err != nil || len(req.Image2.Data) != maxImage {
			t.Fatalf("file=%v: image at the cap: %v", asFile, err)
		}
		_, err = parseBytes(fuzzBody(t, append(validFields(), field(FieldImage1, "https://example.com/a.jpg"), mk(append(img, 0)))...), false, maxImage)
		var re *RequestError
		if !errors.As(err, &re) || re.Code != CodeTooLarge || !strings.Contains(re.Message, "image2") {
			t.Fatalf("file=%v: image over the cap: %v", asFile, err)
		}
	}
}
