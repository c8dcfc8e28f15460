package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingReader yields an endless stream of 'x' and counts what was read.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestReadAll(t *testing.T) {
	const max = 1000
	tests := []struct {
		name    string
		r       io.Reader
		wantLen int
		tooBig  bool
	}{
		{"empty", strings.NewReader(""), 0, false},
		{"exactly max (sized)", bytes.NewReader(make([]byte, max)), max, false},
		{"max+1 (sized)", bytes.NewReader(make([]byte, max+1)), 0, true},
		{"exactly max (stream)", io.MultiReader(bytes.NewReader(make([]byte, max))), max, false},
		{"max+1 (stream)", io.MultiReader(bytes.NewReader(make([]byte, max+1))), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadAll(tt.r, max)
			if tt.tooBig {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("err = %v, want ErrTooLarge", err)
				}
				return
			}
			if err != nil || len(b) != tt.wantLen {
				t.Fatalf("got %d bytes, %v; want %d", len(b), err, tt.wantLen)
			}
		})
	}
	// An endless reader is cut off after max+1 bytes (plus at most one read
	// buffer), never buffered to the end.
	cr := &countingReader{}
	if _, err := ReadAll(cr, max); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless reader: %v", err)
	}
	if cr.n > max+1 {
		t.Fatalf("read %d bytes from an endless reader with limit %d", cr.n, max)
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(small, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := File(small, 100); err != nil || string(b) != "hello" {
		t.Fatalf("File(small) = %q, %v", b, err)
	}
	if _, err := File(big, 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("File(big) err = %v, want ErrTooLarge", err)
	}
	if _, err := File(filepath.Join(dir, "missing"), 100); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("File(missing) err = %v, want ErrNotExist", err)
	}
	if _, err := File(dir, 100); err == nil {
		t.Fatal("File(directory) succeeded")
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw string
		ok  bool
	}{
		{"http://example.com/a.jpg", true},
		{"https://example.com:8443/a.png?x=1", true},
		{"HTTPS://EXAMPLE.COM/a.png", true},
		{"ftp://example.com/a.jpg", false},
		{"file:///etc/passwd", false},
		{"gopher://example.com", false},
		{"javascript:alert(1)", false},
		{"/relative/path.jpg", false},
		{"example.com/a.jpg", false},
		{"http:///nohost", false},
		{"http://[::1", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("ParseURL(%q) = %v, want ok=%v", tt.raw, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidURL) {
			t.Errorf("ParseURL(%q) error %v does not wrap ErrInvalidURL", tt.raw, err)
		}
	}
}

func TestPublic(t *testing.T) {
	tests := []struct {
		ip     string
		public bool
	}{
		{"8.8.8.8", true},
		{"93.184.216.34", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"ff02::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.1.1.1", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a00:1", false},
		{"2002:7f00:1::", false},
		{"fec0::1", false},                 // site-local
		{"feff:ffff::1", false},            // still fec0::/10
		{"::127.0.0.1", false},             // IPv4-compatible
		{"::8.8.8.8", false},               // IPv4-compatible, even of a public address
		{"::ffff:0:127.0.0.1", false},      // IPv4-translated
		{"::ffff:0:8.8.8.8", false},        // IPv4-translated
		{"192.88.99.1", false},             // 6to4 relay anycast
		{"192.88.100.1", true},             // just outside it
		{"2a00:1450:4001:82b::200e", true}, // a public IPv6 address
	}
	for _, tt := range tests {
		if got := Public(netip.MustParseAddr(tt.ip)); got != tt.public {
			t.Errorf("Public(%s) = %v, want %v", tt.ip, got, tt.public)
		}
	}
}

func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func TestGetAllowPrivate(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes
	var hops atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/img", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/redirect/", func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/redirect/"), "%d", &n)
		if n == 0 {
			http.Redirect(w, r, "/img", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/to-ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/x.jpg", http.StatusFound)
	})
	mux.HandleFunc("/big-declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.Write(make([]byte, 5000))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: streamed until the client hangs up.
		chunk := make([]byte, 512)
		for i := 0; i < 10000; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	srv := newServer(t, mux.ServeHTTP)
	c := New(Config{AllowPrivate: true, MaxBytes: 2000, Timeout: 5 * time.Second})

	tests := []struct {
		path     string
		wantErr  error
		wantHops int32 // -1: don't check
	}{
		{"/img", nil, 0},
		{"/redirect/0", nil, 1},            // 1 redirect
		{"/redirect/2", nil, 3},            // 3 redirects: the limit
		{"/redirect/3", ErrFetch, 4},       // a 4th redirect is refused
		{"/loop", ErrFetch, 4},             // redirect loop
		{"/to-ftp", ErrInvalidURL, -1},     // redirect to another scheme
		{"/missing", ErrFetch, -1},         // HTTP 404
		{"/big-declared", ErrTooLarge, -1}, // Content-Length over the cap
		{"/big-chunked", ErrTooLarge, -1},  // streamed over the cap
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			hops.Store(0)
			b, err := c.Get(context.Background(), srv.URL+tt.path)
			if tt.wantErr == nil {
				if err != nil || !bytes.Equal(b, body) {
					t.Fatalf("Get = %d bytes, %v", len(b), err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantHops >= 0 && hops.Load() != tt.wantHops {
				t.Errorf("server saw %d redirect requests, want %d", hops.Load(), tt.wantHops)
			}
		})
	}
}

func TestGetTimeoutSlowDrip(t *testing.T) {
	stop := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		for {
			if _, err := w.Write([]byte{0xff}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(50 * time.Millisecond):
			case <-r.Context().Done():
				return
			case <-stop:
				return
			}
		}
	})
	defer close(stop)
	before := runtime.NumGoroutine()
	c := New(Config{AllowPrivate: true, Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := c.Get(context.Background(), srv.URL)
	if !errors.Is(err, ErrFetchTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrFetchTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timed out after %v, limit 300ms", d)
	}
	c.hc.CloseIdleConnections()
	// Client-side goroutines wind down (allow the server's to finish too).
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("goroutines: %d before, %d after", before, g)
	}
}

func TestGetCanceled(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := New(Config{AllowPrivate: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Get(ctx, srv.URL)
	if !errors.Is(err, ErrFetch) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrFetch wrapping context.Canceled", err)
	}
}

func TestGetForbidden(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); w.Write([]byte("x")) })
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	custom := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return http.DefaultTransport.RoundTrip(r)
	})}
	tests := []struct {
		name string
		cfg  Config
		url  string
	}{
		{"loopback IP", Config{}, srv.URL},
		{"localhost name", Config{}, "http://localhost:" + port + "/"},
		{"IPv6 loopback", Config{}, "http://[::1]:" + port + "/"},
		{"mapped loopback", Config{}, "http://[::ffff:127.0.0.1]:" + port + "/"},
		{"unspecified", Config{}, "http://0.0.0.0:" + port + "/"},
		{"base *http.Transport", Config{Base: &http.Client{Transport: &http.Transport{}}}, srv.URL},
		{"custom RoundTripper", Config{Base: custom}, srv.URL},
		{"custom RoundTripper, name", Config{Base: custom}, "http://localhost:" + port + "/"},
		// Numeric forms that inet_aton-style resolvers read as 127.0.0.1.
		{"decimal IPv4", Config{}, "http://2130706433:" + port + "/"},
		{"hex IPv4", Config{}, "http://0x7f000001:" + port + "/"},
		{"octal IPv4", Config{}, "http://0177.0.0.1:" + port + "/"},
		{"short IPv4", Config{}, "http://127.1:" + port + "/"},
		{"localhost.", Config{}, "http://localhost.:" + port + "/"},
		{"sub.localhost", Config{}, "http://a.localhost:" + port + "/"},
		{"custom RoundTripper, decimal", Config{Base: custom}, "http://2130706433:" + port + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg).Get(context.Background(), tt.url)
			if !errors.Is(err, ErrForbiddenURL) {
				t.Fatalf("err = %v, want ErrForbiddenURL", err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Fatalf("forbidden server was reached %d times", hits.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRedirectToForbidden treats 127.0.0.1 as public and 127.0.0.2 as
// private: a redirect from the first to the second must be refused at dial
// time, without the second server seeing a request.
func TestRedirectToForbidden(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	var hits atomic.Int32
	private := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("secret"))
	}))
	private.Listener.Close()
	private.Listener = ln
	private.Start()
	defer private.Close()
	public := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/metadata", http.StatusFound)
	})

	old := allowIP
	allowIP = func(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.1") }
	defer func() { allowIP = old }()

	_, err = New(Config{}).Get(context.Background(), public.URL)
	if !errors.Is(err, ErrForbiddenURL) {
		t.Fatalf("err = %v, want ErrForbiddenURL", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("private server was reached")
	}
	// The same redirect is followed when private destinations are allowed.
	b, err := New(Config{AllowPrivate: true}).Get(context.Background(), public.URL)
	if err != nil || string(b) != "secret" {
		t.Fatalf("AllowPrivate: %q, %v", b, err)
	}
}

func TestLegacyIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = not a numeric IPv4 form
	}{
		{"2130706433", "127.0.0.1"},
		{"0x7f000001", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"10.0x10.1", "10.16.0.1"},
		{"8.8.8.8", "8.8.8.8"},
		{"0", "0.0.0.0"},
		{"example.com", ""},
		{"1.2.3.4.5", ""},
		{"256.1", ""},
		{"4294967296", ""},
		{"09.1.1.1", ""}, // 9 is not octal
		{"1..1", ""},
	}
	for _, tt := range tests {
		ip, ok := legacyIPv4(tt.in)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != tt.want {
			t.Errorf("legacyIPv4(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// A public address in a legacy form is refused as an invalid URL (the
	// resolver would read it one way and a reader of the log another).
	if err := checkHostName("0x08080808"); !errors.Is(err, ErrInvalidURL) {
		t.Errorf("0x08080808: %v, want ErrInvalidURL", err)
	}
	if err := checkHostName("8.8.8.8"); err != nil {
		t.Errorf("8.8.8.8: %v", err)
	}
}

func TestErrorsOmitQueryAndCredentials(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	_, err := New(Config{AllowPrivate: true}).Get(context.Background(), srv.URL+"/a.jpg?X-Amz-Signature=SECRET#frag")
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"SECRET", "X-Amz", "frag"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains %q", err, s)
		}
	}
	if got := SafeString("https://user:pw@h.example/p/a.jpg?sig=1#x"); got != "https://h.example/p/a.jpg" {
		t.Errorf("SafeString = %q", got)
	}
}
