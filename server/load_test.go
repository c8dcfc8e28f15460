package server

import (
	"bytes"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memSampler records the peak heap in use and the peak memory obtained
// from the OS while it runs.
type memSampler struct {
	stop     chan struct{}
	done     chan struct{}
	peakHeap uint64
	peakSys  uint64
}

func startMemSampler() *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			s.peakHeap = max(s.peakHeap, ms.HeapInuse)
			s.peakSys = max(s.peakSys, ms.Sys-ms.HeapReleased)
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *memSampler) Stop() { close(s.stop); <-s.done }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted)) + 0.5)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// TestLoad sends 50 concurrent face-match requests (two real ~100-300 KB
// JPEG uploads each) to the real pipeline on loopback. Burst: all 50 at
// once, none lost, at least 48 answered 200 (they wait in the queue). Closed loop: 50 clients that
// retry on 503 until they get 200, giving the throughput of the server at
// its concurrency limit and the latency percentiles. Peak memory stays
// bounded because requests over the limit are refused before their body is
// read.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load check: skipped with -short")
	}
	portrait := fixture(t, "obama_portrait_2012.jpg")
	congress := fixture(t, "obama_congress_2009.jpg")
	m := realMatcher(t, false)
	s, ts, _ := newTestServer(t, m, nil)
	ct, body := multipartBody(t, append(validFields(), file(FieldImage1, "a.jpg", portrait), file(FieldImage2, "b.jpg", congress))...)
	const n = 50
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}

	do := func() (int, time.Duration, error) {
		start := time.Now()
		resp, err := client.Post(ts.URL+PathFaceMatch, ct, bytes.NewReader(body))
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		e := decode(t, resp)
		d := time.Since(start)
		if e.status == 200 && (e.Data == nil || !e.Data.IsMatch) {
			t.Errorf("200 without a match: %+v", e.Data)
		}
		if e.status == 503 && e.ResponseKey != CodeOverloaded.ResponseKey {
			t.Errorf("503 %s", e.ResponseKey)
		}
		return e.status, d, nil
	}

	runtime.GC()
	mem := startMemSampler()

	// Burst.
	var (
		wg              sync.WaitGroup
		ok, busy, other atomic.Int32
		mu              sync.Mutex
		okLat, busyLat  []time.Duration
		startGate       = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			st, d, err := do()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("request lost: %v", err)
				other.Add(1)
			case st == 200:
				ok.Add(1)
				okLat = append(okLat, d)
			case st == 503:
				busy.Add(1)
				busyLat = append(busyLat, d)
			default:
				t.Errorf("status %d", st)
				other.Add(1)
			}
		}()
	}
	burstStart := time.Now()
	close(startGate)
	wg.Wait()
	burst := time.Since(burstStart)
	if got := ok.Load() + busy.Load(); got != n {
		t.Fatalf("burst: %d answered 200/503 of %d", got, n)
	}
	if ok.Load() < 48 {
		t.Errorf("burst: %d × 200 of %d, want ≥ 48 (requests queue for a slot)", ok.Load(), n)
	}
	slices.Sort(busyLat)
	t.Logf("burst of %d: %d × 200, %d × 503 (limit %d) in %v; 503 latency p50 %v p99 %v",
		n, ok.Load(), busy.Load(), s.adm.nslots, burst.Round(time.Millisecond),
		percentile(busyLat, 50), percentile(busyLat, 99))

	// Closed loop: every client retries on 503 until served.
	var lat []time.Duration
	var rejected atomic.Int32
	loopStart := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := time.Now()
			for {
				st, d, err := do()
				if err != nil {
					t.Errorf("request lost: %v", err)
					return
				}
				if st == 200 {
					mu.Lock()
					okLat = append(okLat, d)
					mu.Unlock()
					break
				}
				rejected.Add(1)
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			lat = append(lat, time.Since(first))
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(loopStart)
	mem.Stop()
	if len(lat) != n {
		t.Fatalf("closed loop: %d of %d served", len(lat), n)
	}
	slices.Sort(okLat)
	slices.Sort(lat)
	t.Logf("closed loop: %d comparisons in %v = %.2f req/s (%d × 503 retried); time to success p50 %v p95 %v p99 %v",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), rejected.Load(),
		percentile(lat, 50).Round(time.Millisecond), percentile(lat, 95).Round(time.Millisecond),
		percentile(lat, 99).Round(time.Millisecond))
	t.Logf("latency of the %d answers 200 (burst and loop): p50 %v p95 %v p99 %v",
		len(okLat), percentile(okLat, 50).Round(time.Millisecond), percentile(okLat, 95).Round(time.Millisecond),
		percentile(okLat, 99).Round(time.Millisecond))
	t.Logf("peak heap in use %.1f MB, peak memory from the OS %.1f MB (test process: clients, server and models)",
		float64(mem.peakHeap)/(1<<20), float64(mem.peakSys)/(1<<20))
	// Bound: the models plus MaxConcurrent requests in flight (each at most
	// two 6 MB bodies and two decoded images), far from 50 requests' worth.
	if limit := uint64(1 << 30); mem.peakHeap > limit {
		t.Errorf("peak heap %d MB over %d MB", mem.peakHeap>>20, limit>>20)
	}
}
