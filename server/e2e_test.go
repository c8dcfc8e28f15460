package server

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/internal/sharedtest"
)

// realMatchers are built once per (allowPrivate) setting: loading the
// models is the slow part.
var (
	realMu       sync.Mutex
	realMatchers = map[bool]*facematch.Matcher{}
)

func realMatcher(t testing.TB, allowPrivate bool) *facematch.Matcher {
	t.Helper()
	realMu.Lock()
	defer realMu.Unlock()
	if m := realMatchers[allowPrivate]; m != nil {
		return m
	}
	m, err := facematch.New(&facematch.Options{AllowPrivateURLs: allowPrivate, FetchTimeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("facematch.New: %v", err)
	}
	realMatchers[allowPrivate] = m
	return m
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedtest.Path(t, "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// imageHost serves fixtures and misbehaving endpoints on loopback.
func imageHost(t testing.TB, files map[string][]byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for name, data := range files {
		mux.HandleFunc("/img/"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(data)
		})
	}
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		copy(chunk, []byte{0xFF, 0xD8, 0xFF, 0xE0})
		for i := 0; i < 200; i++ { // 12.8 MB, never announced
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		// A JPEG header, then one byte every 200 ms: never finishes within
		// the fetch timeout.
		w.Header().Set("Content-Type", "image/jpeg")
		fl := w.(http.Flusher)
		_, _ = w.Write([]byte{0xFF, 0xD8, 0xFF, 0xE0})
		fl.Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			if _, err := w.Write([]byte{0}); err != nil {
				return
			}
			fl.Flush()
		}
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func flatPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegBomb is a real 16x16 JPEG whose SOF0 header is patched to announce
// w x h pixels.
func jpegBomb(t testing.TB, w, h uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// pngBomb is a valid PNG signature and IHDR for a w x h RGBA image with a
// tiny IDAT: decoding it fully would need w*h*4 bytes.
func pngBomb(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		buf.WriteString(typ)
		buf.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		_ = binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return buf.Bytes()
}

// TestEndToEnd runs the real Matcher behind the handler on loopback, with
// uploads, URLs and both mixes, and every image error path.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end tests run the full pipeline; skipped with -short")
	}
	portrait := fixture(t, "obama_portrait_2012.jpg")
	congress := fixture(t, "obama_congress_2009.jpg")
	biden := fixture(t, "biden_blue_room_2010.jpg")
	// A flat grey picture: certainly no face (the noface_* fixtures are
	// the detector's business, tested in detect).
	noface := flatPNG(t, 320, 240)
	host := imageHost(t, map[string][]byte{"portrait.jpg": portrait, "congress.jpg": congress, "noface.png": noface})
	m := realMatcher(t, true)
	_, ts, _ := newTestServer(t, m, nil)
	_, strict, _ := newTestServer(t, realMatcher(t, false), nil)

	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	up1 := func(name string, b []byte) part { return file(FieldImage1, name, b) }
	up2 := func(name string, b []byte) part { return file(FieldImage2, name, b) }
	url1 := func(path string) part { return field(FieldImage1, host.URL+path) }
	url2 := func(path string) part { return field(FieldImage2, host.URL+path) }

	tests := []struct {
		name   string
		server *httptest.Server
		img1   part
		img2   part
		match  int // 1 match, 0 no match, -1 failure
		want   Code
		msg    string
		fast   time.Duration // answer within this (0: no check)
	}{
		{"two uploads, same person", ts, up1("a.jpg", portrait), up2("b.jpg", congress), 1, Code{}, "", 0},
		{"two uploads, different people", ts, up1("a.jpg", portrait), up2("b.jpg", biden), 0, Code{}, "", 0},
		{"two URLs", ts, url1("/img/portrait.jpg"), url2("/img/congress.jpg"), 1, Code{}, "", 0},
		{"URL then upload", ts, url1("/img/portrait.jpg"), up2("b.jpg", congress), 1, Code{}, "", 0},
		{"upload then URL", ts, up1("a.jpg", portrait), url2("/img/congress.jpg"), 1, Code{}, "", 0},
		{"no face in image2", ts, up1("a.jpg", portrait), up2("b.png", noface), -1, CodeNoFace, "image2", 0},
		{"no face in image1 by URL", ts, url1("/img/noface.png"), up2("b.jpg", portrait), -1, CodeNoFace, "image1", 0},
		{"truncated JPEG", ts, up1("a.jpg", portrait), up2("b.jpg", congress[:len(congress)/3]), -1, CodeCorruptImage, "image2", 0},
		{"0-byte part", ts, up1("a.jpg", nil), up2("b.jpg", congress), -1, CodeCorruptImage, "image1", 0},
		{"GIF", ts, up1("a.gif", gif), up2("b.jpg", congress), -1, CodeUnsupportedFormat, "image1", 0},
		{"text file", ts, up1("a.jpg", portrait), up2("b.txt", []byte("hello, this is not an image")), -1, CodeUnsupportedFormat, "image2", 0},
		{"20000x20000 PNG bomb refused fast", ts, up1("bomb.png", pngBomb(20000, 20000)), up2("b.png", flatPNG(t, 64, 64)), -1, CodeImageDimensions, "image1", 2 * time.Second},
		{"PNG bomb as image2", ts, up1("a.jpg", portrait), up2("bomb.png", pngBomb(20000, 20000)), -1, CodeImageDimensions, "image2", 0},
		{"JPEG bomb header", ts, up1("a.jpg", portrait), up2("bomb.jpg", jpegBomb(t, 60000, 60000)), -1, CodeImageDimensions, "image2", 0},
		{"private URL refused", strict, up1("a.jpg", portrait), url2("/img/congress.jpg"), -1, CodeForbiddenURL, "image2", 0},
		{"link-local URL refused", strict, field(FieldImage1, "http://169.254.169.254/latest/meta-data"), up2("b.jpg", portrait), -1, CodeForbiddenURL, "image1", 0},
		{"redirect loop", ts, url1("/loop"), up2("b.jpg", portrait), -1, CodeFetchFailed, "image1", 0},
		{"URL 404", ts, up1("a.jpg", portrait), url2("/missing"), -1, CodeFetchFailed, "image2", 0},
		{"URL image over 6 MB", ts, up1("a.jpg", portrait), url2("/huge"), -1, CodeTooLarge, "image2", 0},
		{"URL drips bytes", ts, up1("a.jpg", portrait), url2("/drip"), -1, CodeFetchTimeout, "image2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := multipartBody(t, append(validFields(), tt.img1, tt.img2)...)
			start := time.Now()
			e := post(t, tt.server.URL+PathFaceMatch, ct, body, nil)
			d := time.Since(start)
			if tt.fast > 0 && d > tt.fast {
				t.Errorf("took %v, want under %v", d, tt.fast)
			}
			if tt.match < 0 {
				expectCode(t, e, tt.want)
				if !strings.Contains(e.Message, tt.msg) {
					t.Errorf("message %q does not name %q", e.Message, tt.msg)
				}
				return
			}
			if e.status != 200 || e.Data == nil {
				t.Fatalf("status %d %+v", e.status, e.Response)
			}
			if e.Data.IsMatch != (tt.match == 1) {
				t.Errorf("isMatch %v (match %s), want %v", e.Data.IsMatch, e.Data.Match, tt.match == 1)
			}
			t.Logf("match %s isMatch %v in %v", e.Data.Match, e.Data.IsMatch, d)
		})
	}
}

// TestSlowURLNoLeak: a URL server that drips bytes times out with 504 and
// leaves no goroutine behind.
func TestSlowURLNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the full pipeline; skipped with -short")
	}
	host := imageHost(t, nil)
	_, ts, _ := newTestServer(t, realMatcher(t, true), nil)
	// image1 is small (128x128, one face) so the answer time is the fetch's.
	small := fixture(t, "grace_hopper_128.jpg")
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.jpg", small), field(FieldImage2, host.URL+"/drip"))...)
	// Warm up connections and lazily started goroutines.
	expectCode(t, post(t, ts.URL+PathFaceMatch, ct, body, nil), CodeFetchTimeout)
	http.DefaultClient.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()
	for range 3 {
		start := time.Now()
		e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
		expectCode(t, e, CodeFetchTimeout)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("timed out after %v (fetch timeout 2 s)", d)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	settleGoroutines(t, base, 2)
}

// TestClientDisconnect: a client that goes away mid-upload frees its slot.
func TestClientDisconnect(t *testing.T) {
	s, ts, _ := newTestServer(t, &fakeMatcher{res: matchResult(90)}, &Options{MaxConcurrent: 1})
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", smallPNG(t)))...)
	_, _ = conn.Write([]byte("POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + ct +
		"\r\nContent-Length: 100000\r\n\r\n"))
	_, _ = conn.Write(body[:len(body)-10])
	deadline := time.Now().Add(2 * time.Second)
	for len(s.uploads) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(s.uploads) != 1 || s.adm.inUse.Load() != 0 {
		t.Fatalf("the half-sent request holds %d upload and %d compare slots, want 1 and 0", len(s.uploads), s.adm.inUse.Load())
	}
	conn.Close()
	deadline = time.Now().Add(2 * time.Second)
	for len(s.uploads) != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(s.uploads) != 0 {
		t.Fatal("slot not released after the client went away")
	}
}
