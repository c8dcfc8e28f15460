package server

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// PathMetrics serves the Prometheus metrics.
const PathMetrics = "/metrics"

// metrics are the service's Prometheus series, in a registry of their own
// (several Servers in one process do not collide).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	stages    *prometheus.HistogramVec
	queueWait prometheus.Histogram
	handler   http.Handler
}

// Stage labels of facematch_stage_duration_seconds.
const (
	stageFetch = "fetch"
	stageTotal = "total"
)

func newMetrics(a *admission, uploads func() int, bodies func() int64) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "facematch_requests_total",
		Help: "Face-match requests answered, by responseCode (S00000 success, E000nn failures).",
	}, []string{"response_code"})
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "facematch_stage_duration_seconds",
		Help:    "Duration of each stage: fetch (one image URL), decode, detect, embed (one image), total (one request, queue included).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"stage"})
	m.queueWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "facematch_queue_wait_seconds",
		Help:    "Time a request waited for memory and a compare slot.",
		Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	m.reg.MustRegister(
		m.requests, m.stages, m.queueWait,
		gauge("facematch_in_flight", "Requests holding a compare slot.", func() float64 { return float64(a.inUse.Load()) }),
		gauge("facematch_compare_slots", "Compare slots (MaxConcurrent).", func() float64 { return float64(a.nslots) }),
		gauge("facematch_queue_length", "Requests waiting for memory or a compare slot.", func() float64 { return float64(a.waiting.Load()) }),
		gauge("facematch_uploads_in_progress", "Requests admitted (body arriving, fetching, queued or compared).", func() float64 { return float64(uploads()) }),
		gauge("facematch_memory_budget_bytes", "Decode memory budget.", func() float64 { return float64(a.budget) }),
		gauge("facematch_memory_in_use_bytes", "Decode memory budget charged to requests in progress.", func() float64 { return float64(a.memInUse.Load()) }),
		gauge("facematch_body_bytes_reserved", "Request body bytes reserved by requests in progress (Content-Length).", func() float64 { return float64(bodies()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// ObserveStage records a stage duration; pass it as
// facematch.Options.StageObserver so decode, detect and embed are measured.
func (s *Server) ObserveStage(stage string, d time.Duration) {
	s.metrics.stages.WithLabelValues(stage).Observe(d.Seconds())
}

// Registry is the Prometheus registry behind PathMetrics, for an
// application that adds its own series.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }
