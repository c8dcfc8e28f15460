package server

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/internal/fetch"
)

// The hostile-load suite of issue 11: each attack of the issue, on
// loopback, bounded in count and time. With -short it runs against a fake
// matcher (no models, a few seconds); without, against the real pipeline
// and the real bombs, and logs the figures quoted in the note
// (go test ./server -run TestHostile -v).

// fetchingMatcher is a fake matcher that fetches URLs for real (loopback
// allowed) and compares in a fixed time without using the CPU.
type fetchingMatcher struct {
	fakeMatcher
	client *fetch.Client
	delay  time.Duration
}

func (m *fetchingMatcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	return m.client.Get(ctx, rawURL)
}

func (m *fetchingMatcher) Compare(ctx context.Context, a, b facematch.Source, o *facematch.CompareOptions) (*facematch.Result, error) {
	select {
	case <-time.After(m.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return m.fakeMatcher.Compare(ctx, a, b, o)
}

// hostileEnv is the matcher and the valid request of one run.
type hostileEnv struct {
	m     Matcher
	body  []byte
	ctype string
}

func newHostileEnv(t *testing.T) *hostileEnv {
	t.Helper()
	if testing.Short() {
		img := smallPNG(t)
		ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.png", img), file(FieldImage2, "b.png", img))...)
		return &hostileEnv{
			m:     &fetchingMatcher{fakeMatcher: fakeMatcher{res: matchResult(90)}, client: fetch.New(fetch.Config{AllowPrivate: true, Timeout: 2 * time.Second}), delay: 20 * time.Millisecond},
			ctype: ct, body: body,
		}
	}
	portrait := fixture(t, "obama_portrait_2012.jpg")
	congress := fixture(t, "obama_congress_2009.jpg")
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.jpg", portrait), file(FieldImage2, "b.jpg", congress))...)
	return &hostileEnv{m: realMatcher(t, true), ctype: ct, body: body}
}

func (h *hostileEnv) probe(t *testing.T, url string) *envelope {
	return post(t, url+PathFaceMatch, h.ctype, h.body, nil)
}

// dripServer answers every request with headers, then one byte per 100 ms
// until the client gives up.
func dripServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.WriteHeader(200)
		rc := http.NewResponseController(w)
		for i := 0; ; i++ {
			if _, err := w.Write([]byte{0xFF}); err != nil {
				return
			}
			_ = rc.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHostile(t *testing.T) {
	env := newHostileEnv(t)

	// Two requests whose image URLs drip bytes: they hold fetch places
	// until the fetch timeout, while uploads are served.
	t.Run("slow URLs", func(t *testing.T) {
		_, ts, _ := newTestServer(t, env.m, &Options{MaxConcurrent: 2})
		drip := dripServer(t)
		ct, body := multipartBody(t, append(validFields(), field(FieldImage1, drip.URL+"/a.jpg"), field(FieldImage2, drip.URL+"/b.jpg"))...)
		slow := make(chan *envelope, 2)
		for range 2 {
			go func() { slow <- post(t, ts.URL+PathFaceMatch, ct, body, nil) }()
		}
		time.Sleep(200 * time.Millisecond)
		for i := range 3 {
			start := time.Now()
			if e := env.probe(t, ts.URL); e.status != 200 {
				t.Fatalf("probe %d behind slow URLs: %d %s", i, e.status, e.ResponseKey)
			}
			t.Logf("probe %d behind two dripping URLs: 200 in %v", i, time.Since(start).Round(time.Millisecond))
			time.Sleep(200 * time.Millisecond)
		}
		for range 2 {
			expectCode(t, <-slow, CodeFetchTimeout)
		}
	})

	// Eight bodies at ~10 B/s: cut after the grace period with 408, while
	// probes are served.
	t.Run("slow bodies", func(t *testing.T) {
		s, ts, _ := newTestServer(t, env.m, &Options{MaxConcurrent: 2, UploadGrace: 500 * time.Millisecond})
		const n = 8
		answers := make(chan *envelope, n)
		stop := make(chan struct{})
		defer close(stop)
		start := time.Now()
		for range n {
			go func() {
				c, err := net.Dial("tcp", ts.Listener.Addr().String())
				if err != nil {
					answers <- nil
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = c.Write([]byte("POST " + PathFaceMatch + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + env.ctype +
					"\r\nContent-Length: " + strconv.Itoa(len(env.body)) + "\r\n\r\n"))
				go func() {
					for i := 0; i < len(env.body); i++ {
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
						}
						if _, err := c.Write(env.body[i : i+1]); err != nil {
							return
						}
					}
				}()
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					answers <- nil
					return
				}
				answers <- decode(t, resp)
			}()
		}
		deadline := time.Now().Add(2 * time.Second)
		for len(s.uploads) < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if e := env.probe(t, ts.URL); e.status != 200 {
			t.Fatalf("probe behind %d slow bodies: %d %s", n, e.status, e.ResponseKey)
		}
		for range n {
			e := <-answers
			if e == nil {
				t.Fatal("a slow client got no answer")
			}
			expectCode(t, e, CodeBodyTimeout)
		}
		t.Logf("%d slow bodies answered 408 within %v; probe served meanwhile", n, time.Since(start).Round(time.Millisecond))
		if e := env.probe(t, ts.URL); e.status != 200 {
			t.Fatalf("probe after: %d", e.status)
		}
	})

	// Fifty valid requests at once: they queue; none is refused, no client
	// retries.
	t.Run("burst of 50", func(t *testing.T) {
		_, ts, _ := newTestServer(t, env.m, &Options{MaxConcurrent: runtime.GOMAXPROCS(0)})
		const n = 50
		tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
		var ok, other atomic.Int32
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				resp, err := client.Post(ts.URL+PathFaceMatch, env.ctype, bytes.NewReader(env.body))
				if err != nil {
					other.Add(1)
					return
				}
				e := decode(t, resp)
				resp.Body.Close()
				if e.status == 200 {
					ok.Add(1)
				} else {
					other.Add(1)
				}
			}()
		}
		start := time.Now()
		close(gate)
		wg.Wait()
		d := time.Since(start)
		t.Logf("burst of %d on %d cores: %d × 200, %d other, no retry, in %v (%.2f req/s)",
			n, runtime.GOMAXPROCS(0), ok.Load(), other.Load(), d.Round(time.Millisecond), float64(n)/d.Seconds())
		if ok.Load() < 48 {
			t.Fatalf("burst: %d × 200, want ≥ 48", ok.Load())
		}
	})

	// Decompression bombs that pass the pixel cap: refused from their
	// header when they cannot fit the memory budget, while valid traffic
	// is served. The full form measures the peak RSS of the process at the
	// service's default settings (budget and Go memory limit as in
	// `facematch serve`).
	t.Run("bombs", func(t *testing.T) {
		bombs := map[string][]byte{"16-bit PNG 6000x6600": png16Bomb(t, 6000, 6600, !testing.Short())}
		if !testing.Short() {
			if b := progressiveJPEGBomb(t, 6000, 6600); b != nil {
				bombs["progressive JPEG 6000x6600"] = b
			}
			// Small enough to fit the budget alone: decoded, one at a time.
			bombs["16-bit PNG 3500x3500"] = png16Bomb(t, 3500, 3500, true)
		}
		valid2 := smallPNG(t)
		if !testing.Short() {
			valid2 = fixture(t, "obama_portrait_2012.jpg")
		}
		budget := MemoryBudgetFor(CgroupMemoryLimit())
		// FACEMATCH_HOSTILE_BUDGET_OFF=1 reproduces the service before the
		// budget (no budget, no Go memory limit): the "before" figure.
		budgetOff := os.Getenv("FACEMATCH_HOSTILE_BUDGET_OFF") == "1"
		if budgetOff {
			budget = 1 << 40
		}
		if !testing.Short() && !budgetOff {
			old := debug.SetMemoryLimit(budget + 192<<20) // as facematch serve does
			defer debug.SetMemoryLimit(old)
			runtime.GC()
			debug.FreeOSMemory()
		}
		_, ts, _ := newTestServer(t, env.m, &Options{MaxConcurrent: 4, MemoryBudget: budget})
		resetPeakRSS()
		var wg sync.WaitGroup
		var bombCodes sync.Map
		for name, data := range bombs {
			t.Logf("bomb %s: %d KB", name, len(data)>>10)
			ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "bomb", data), file(FieldImage2, "b.jpg", valid2))...)
			for i := range 2 { // two requests of each kind
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := post(t, ts.URL+PathFaceMatch, ct, body, nil)
					bombCodes.Store(fmt.Sprintf("%s #%d", name, i), fmt.Sprintf("%d %s", e.status, e.ResponseKey))
				}()
			}
		}
		var validOK atomic.Int32
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if e := env.probe(t, ts.URL); e.status == 200 {
					validOK.Add(1)
				} else {
					t.Errorf("valid request among bombs: %d %s", e.status, e.ResponseKey)
				}
			}()
		}
		wg.Wait()
		bombCodes.Range(func(k, v any) bool {
			t.Logf("bomb %s: %s", k, v)
			if !budgetOff && !strings.HasPrefix(v.(string), "422") {
				t.Errorf("bomb %s answered %s, want 422", k, v)
			}
			return true
		})
		if peak := peakRSS(); peak > 0 {
			t.Logf("hostile mix (%d bomb requests, 4 valid, %d × 200): peak RSS of the test process %d MB (budget %d MB)",
				2*len(bombs), validOK.Load(), peak>>20, budget>>20)
			if !testing.Short() && !budgetOff && peak > 600<<20 {
				t.Errorf("peak RSS %d MB, goal < 600 MB", peak>>20)
			}
		}
	})
}

// png16Bomb is a 16-bit RGBA PNG of w x h whose content compresses to a
// few hundred KB. Without full, only its header is real (enough for the
// estimate; decoding it would fail as corrupt).
func png16Bomb(t testing.TB, w, h int, full bool) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, 6 // 16-bit RGBA
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	row := make([]byte, 1+8*w)
	rows := h
	if !full {
		rows = 1
	}
	for range rows {
		_, _ = zw.Write(row)
	}
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// progressiveJPEGBomb makes a progressive 4:4:4 JPEG of w x h with
// cjpeg (libjpeg-turbo-progs), or returns nil (logged) when it is not
// installed.
func progressiveJPEGBomb(t testing.TB, w, h int) []byte {
	t.Helper()
	cj, err := exec.LookPath("cjpeg")
	if err != nil {
		t.Log("cjpeg (libjpeg-turbo-progs) not found: no progressive JPEG bomb")
		return nil
	}
	dir := t.TempDir()
	ppm := filepath.Join(dir, "bomb.ppm")
	f, err := os.Create(ppm)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	fmt.Fprintf(bw, "P6\n%d %d\n255\n", w, h)
	row := bytes.Repeat([]byte{128, 120, 110}, w)
	for y := range h {
		row[(y%w)*3] = byte(y) // some texture, still compressible
		_, _ = bw.Write(row)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(cj, "-progressive", "-sample", "1x1", "-quality", "90", ppm).Output()
	_ = os.Remove(ppm)
	if err != nil {
		t.Logf("cjpeg failed: %v", err)
		return nil
	}
	return out
}

// resetPeakRSS resets the kernel's peak resident set (VmHWM) of this
// process (Linux; a no-op elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in bytes, or 0 where unknown.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, ln := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(ln, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
