package server

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkThroughput sends valid requests (two real JPEG uploads) to the
// real pipeline at default settings (MaxConcurrent = cores, the default
// queue and memory budget, the Go memory limit of `facematch serve`) from
// 4 × cores concurrent clients that never retry, and reports the
// throughput per core, its ratio to one client sending requests one after
// another (the baseline, measured in the same run) and the peak RSS of the
// process. Every request must get 200.
//
//	go test ./server -run '^$' -bench Throughput -benchtime 40x
func BenchmarkThroughput(b *testing.B) {
	portrait := fixture(b, "obama_portrait_2012.jpg")
	congress := fixture(b, "obama_congress_2009.jpg")
	ct, body := multipartBody(b, append(validFields(), file(FieldImage1, "a.jpg", portrait), file(FieldImage2, "b.jpg", congress))...)
	m := realMatcher(b, false)
	budget := MemoryBudgetFor(CgroupMemoryLimit())
	old := debug.SetMemoryLimit(budget + 192<<20)
	defer debug.SetMemoryLimit(old)
	_, ts, _ := newTestServer(b, m, &Options{MemoryBudget: budget})
	cores := runtime.GOMAXPROCS(0)
	clients := 4 * cores
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	send := func() error {
		resp, err := client.Post(ts.URL+PathFaceMatch, ct, bytes.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	// Baseline: one client, one request at a time.
	const baseN = 4
	if err := send(); err != nil { // warm up
		b.Fatal(err)
	}
	start := time.Now()
	for range baseN {
		if err := send(); err != nil {
			b.Fatal(err)
		}
	}
	single := float64(baseN) / time.Since(start).Seconds()

	runtime.GC()
	resetPeakRSS()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	start = time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := send(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate/float64(cores), "req/s/core")
	b.ReportMetric(rate/single, "x-one-client")
	if p := peakRSS(); p > 0 {
		b.ReportMetric(float64(p)/(1<<20), "peak-RSS-MB")
	}
}
