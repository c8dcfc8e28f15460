package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/server"
)

func init() {
	commands["serve"] = command{
		run:     runServe,
		summary: "run the HTTP face-match service (POST /v2/kyc/forensics/face_match)",
	}
}

// Environment variables holding the optional credentials (kept out of the
// command line, where other users of the machine could read them).
const (
	envClientID     = "FACEMATCH_CLIENT_ID"
	envClientSecret = "FACEMATCH_CLIENT_SECRET"
)

// serveSignals are the signals that start a graceful shutdown; tests
// replace them.
var serveSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// serveReady, when set (tests), receives the listening address.
var serveReady func(addr string)

// serveConfig is the parsed command line of serve.
type serveConfig struct {
	addr            string
	opts            server.Options // the service's limits, credentials and logger
	allowPrivate    bool
	fetchTimeout    time.Duration
	shutdownTimeout time.Duration
	logJSON         bool
	galleryAt       string
}

func runServe(args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseServeFlags(args, stderr)
	if !ok {
		return code
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.logJSON {
		h = slog.NewJSONHandler(stderr, nil)
	}
	logger := slog.New(h)
	cfg.opts.Logger = logger

	srv := server.New(nil, &cfg.opts)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "facematch serve: %v\n", err)
		return exitError
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit makes the collector work harder as the heap nears
		// it, instead of letting it grow to twice the live data.
		debug.SetMemoryLimit(cfg.opts.MemoryBudget + goMemLimitSlack)
	}
	hs := server.NewHTTPServer(cfg.addr, srv, cfg.opts.RequestTimeout)
	hs.ErrorLog = slog.NewLogLogger(h, slog.LevelWarn)

	ctx, stop := signal.NotifyContext(context.Background(), serveSignals...)
	defer stop()

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(server.WrapListener(ln)) }()
	logger.Info("listening", "addr", ln.Addr().String(), "max_concurrent", cfg.opts.MaxConcurrent, "max_queue", cfg.opts.MaxQueue,
		"memory_budget_mib", cfg.opts.MemoryBudget>>20,
		"allow_private_urls", cfg.allowPrivate, "credentials", cfg.opts.ClientID != "")
	if serveReady != nil {
		serveReady(ln.Addr().String())
	}
	loadErr := loadServeModels(cfg, srv, logger)

	code = exitMatch
	select {
	case <-ctx.Done():
		logger.Info("shutting down: finishing in-flight requests", "timeout", cfg.shutdownTimeout.String())
	case err := <-loadErr:
		logger.Error("cannot load the face models", "error", err.Error())
		code = exitError
	case err := <-serveErr:
		logger.Error("server stopped", "error", err.Error())
		return exitError
	}
	stop() // a second signal kills the process the default way
	if !shutdownServer(hs, serveErr, cfg.shutdownTimeout, logger) {
		code = exitError
	}
	logger.Info("stopped")
	_ = stdout
	return code
}

// parseServeFlags reads serve's command line. When ok is false the command
// ends with code (usage printed, or an error reported on stderr).
func parseServeFlags(args []string, stderr io.Writer) (cfg *serveConfig, code int, ok bool) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address` (host:port)")
	maxConc := fs.Int("max-concurrent", runtime.NumCPU(), "face-match requests compared at once (compare slots)")
	maxQueue := fs.Int("max-queue", server.DefaultMaxQueue, "requests that may wait in order for a compare slot; one more gets 503 with Retry-After")
	queueTimeout := fs.Duration("queue-timeout", server.DefaultQueueTimeout, "longest wait in the queue before 503 with Retry-After")
	maxUploads := fs.Int("max-uploads", 0, "face-match requests admitted at once, bodies arriving, fetching and queued included; more get 503 before their body is read (default max-concurrent + max-queue)")
	maxFetches := fs.Int("max-fetches", 0, "image URL fetches in progress at once (default 8 × max-concurrent)")
	maxPerClient := fs.Int("max-per-client", 0, "requests admitted at once per remote address (0 = no cap; clients behind one gateway share an address)")
	memBudget := fs.String("memory-budget", "", "decode memory budget, e.g. 320MiB or 1GiB (default: half the cgroup memory limit, else 320MiB); also sets the Go memory limit unless GOMEMLIMIT is set")
	minRate := fs.Float64("min-upload-rate", server.DefaultMinUploadRate, "minimum average upload rate in bytes/s once the grace period is over; slower bodies get 408 (negative = none)")
	uploadGrace := fs.Duration("upload-grace", server.DefaultUploadGrace, "time a body may take before the minimum upload rate applies")
	allowPrivate := fs.Bool("allow-private-urls", false, "let image URLs reach loopback, private and link-local addresses (refused by default)")
	reqTimeout := fs.Duration("request-timeout", server.DefaultRequestTimeout, "processing deadline of one request")
	fetchTimeout := fs.Duration("fetch-timeout", facematch.DefaultFetchTimeout, "deadline of one image URL fetch")
	shutdownTimeout := fs.Duration("shutdown-timeout", 90*time.Second, "on SIGINT/SIGTERM, how long to wait for in-flight requests")
	clientID := fs.String("client-id", "", "require this client_id header (default $"+envClientID+"; needs a secret too)")
	secretFile := fs.String("client-secret-file", "", "`file` holding the client_secret to require (default $"+envClientSecret+")")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text")
	galleryAt := fs.String("gallery", "", "enable the /v2/gallery endpoints on this gallery `file` or postgres:// URL (gallery.go)")
	fs.Usage = func() { serveUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitMatch, false
		}
		return nil, exitError, false
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "facematch serve: unexpected arguments %q\n", fs.Args())
		return nil, exitError, false
	}
	if *maxConc < 1 || *maxUploads < 0 || *maxQueue < 1 || *maxFetches < 0 || *maxPerClient < 0 ||
		*reqTimeout <= 0 || *fetchTimeout <= 0 || *shutdownTimeout < 0 || *queueTimeout <= 0 || *uploadGrace <= 0 || *minRate == 0 {
		fmt.Fprintln(stderr, "facematch serve: --max-concurrent and --max-queue must be ≥ 1, the other limits ≥ 0, the timeouts and --min-upload-rate non-zero")
		return nil, exitError, false
	}
	budget := server.MemoryBudgetFor(server.CgroupMemoryLimit())
	if *memBudget != "" {
		b, err := parseBytes(*memBudget)
		if err != nil || b < 16<<20 {
			fmt.Fprintf(stderr, "facematch serve: --memory-budget %q: want a size of at least 16MiB (e.g. 512MiB, 2GiB)\n", *memBudget)
			return nil, exitError, false
		}
		budget = b
	}
	id, secret, err := serveCredentials(*clientID, *secretFile)
	if err != nil {
		fmt.Fprintf(stderr, "facematch serve: %v\n", err)
		return nil, exitError, false
	}
	return &serveConfig{
		addr: *addr,
		opts: server.Options{
			MaxConcurrent:  *maxConc,
			MaxQueue:       *maxQueue,
			QueueTimeout:   *queueTimeout,
			MaxUploads:     *maxUploads,
			MaxFetches:     *maxFetches,
			MaxPerClient:   *maxPerClient,
			MemoryBudget:   budget,
			MinUploadRate:  *minRate,
			UploadGrace:    *uploadGrace,
			RequestTimeout: *reqTimeout,
			ClientID:       id,
			ClientSecret:   secret,
		},
		allowPrivate:    *allowPrivate,
		fetchTimeout:    *fetchTimeout,
		shutdownTimeout: *shutdownTimeout,
		logJSON:         *logJSON,
		galleryAt:       *galleryAt,
	}, 0, true
}

func serveUsage(stderr io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(stderr, "usage: facematch serve [--addr 127.0.0.1:8080] [--max-concurrent N] [--allow-private-urls] [flags]")
	fmt.Fprintln(stderr)
	fmt.Fprintln(stderr, "Runs the face-match HTTP service:")
	fmt.Fprintln(stderr, "  POST "+server.PathFaceMatch+"  multipart/form-data: reference_id, consent=Y, consent_purpose,")
	fmt.Fprintln(stderr, "       [threshold 0.70-0.95], image1, image2 (each a JPEG/PNG upload or an http(s) URL)")
	fmt.Fprintln(stderr, "  GET  "+server.PathHealth+", "+server.PathReady+", "+server.PathOpenAPI)
	fmt.Fprintln(stderr, "Credentials are off unless both a client id and a client secret are given;")
	fmt.Fprintln(stderr, "then requests need matching client_id and client_secret headers.")
	fmt.Fprintln(stderr, "SIGINT/SIGTERM stop accepting connections and finish in-flight requests.")
	fmt.Fprintln(stderr)
	fmt.Fprintln(stderr, "flags:")
	fs.PrintDefaults()
}

// serveCredentials resolves the client id (flag, else $FACEMATCH_CLIENT_ID)
// and secret (file, else $FACEMATCH_CLIENT_SECRET): both or neither.
func serveCredentials(id, secretFile string) (string, string, error) {
	if id == "" {
		id = os.Getenv(envClientID)
	}
	secret := os.Getenv(envClientSecret)
	if secretFile != "" {
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return "", "", fmt.Errorf("client secret: %v", err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
	}
	if (id == "") != (secret == "") {
		return "", "", errors.New("give both a client id and a client secret, or neither")
	}
	return id, secret, nil
}

// loadServeModels loads the models (and opens the gallery) in the
// background, while the server already listens: /healthz answers at once,
// /readyz and face-match requests say 503 until the models are in. The
// channel receives the error when loading fails.
func loadServeModels(cfg *serveConfig, srv *server.Server, logger *slog.Logger) <-chan error {
	loadErr := make(chan error, 1)
	go func() {
		start := time.Now()
		m, err := facematch.New(&facematch.Options{AllowPrivateURLs: cfg.allowPrivate, FetchTimeout: cfg.fetchTimeout,
			StageObserver: srv.ObserveStage})
		if err != nil {
			loadErr <- err
			return
		}
		if err := serveGallery(srv, cfg.galleryAt, m); err != nil {
			loadErr <- err
			return
		}
		srv.SetMatcher(m)
		logger.Info("ready", "model", facematch.Model, "load_ms", time.Since(start).Milliseconds())
	}()
	return loadErr
}

// shutdownServer finishes the in-flight requests within timeout, then
// waits for Serve to return. It reports whether both went cleanly.
func shutdownServer(hs *http.Server, serveErr <-chan error, timeout time.Duration, logger *slog.Logger) bool {
	ok := true
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		logger.Error("shutdown incomplete", "error", err.Error())
		_ = hs.Close()
		ok = false
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server stopped", "error", err.Error())
		ok = false
	}
	return ok
}

// goMemLimitSlack is what the process needs beyond the decode budget: the
// models and runtime (about 100 MB) and the request bodies in flight.
const goMemLimitSlack = 192 << 20

// parseBytes reads a size: a number of bytes, or a number with a unit
// (KB, MB, GB: powers of 1000; KiB, MiB, GiB: powers of 1024).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(v * mult), nil
}
