package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/facematch/facematch/internal/sharedtest"
	"github.com/facematch/facematch/server"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv(envClientID, "")
	t.Setenv(envClientSecret, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "not defined"},
		{"extra argument", []string{"x"}, "unexpected arguments"},
		{"zero concurrency", []string{"--max-concurrent", "0"}, "--max-concurrent"},
		{"zero queue", []string{"--max-queue", "0"}, "--max-queue"},
		{"bad memory budget", []string{"--memory-budget", "lots"}, "--memory-budget"},
		{"tiny memory budget", []string{"--memory-budget", "1MiB"}, "--memory-budget"},
		{"id without secret", []string{"--client-id", "acme"}, "both a client id and a client secret"},
		{"missing secret file", []string{"--client-id", "acme", "--client-secret-file", "/nonexistent/secret"}, "client secret"},
		{"address in use", []string{"--addr", ln.Addr().String()}, "address already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runServe(tt.args, &stdout, &stderr); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := runServe([]string{"-h"}, &stdout, &stderr); code != exitMatch || !strings.Contains(stderr.String(), "--allow-private-urls") {
		t.Errorf("-h: exit %d, %q", code, stderr.String())
	}
}

// TestServeGracefulShutdown starts the real service, begins a request,
// signals the process in the middle of its upload and checks that the
// request still gets its 200 answer and that runServe then returns 0.
func TestServeGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the full pipeline; skipped with -short")
	}
	img1, err := os.ReadFile(sharedtest.Path(t, "fixtures", "obama_portrait_2012.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img2, err := os.ReadFile(sharedtest.Path(t, "fixtures", "obama_congress_2009.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	oldSignals, oldReady := serveSignals, serveReady
	defer func() { serveSignals, serveReady = oldSignals, oldReady }()
	serveSignals = []os.Signal{syscall.SIGUSR1}
	addrc := make(chan string, 1)
	serveReady = func(a string) { addrc <- a }
	t.Setenv(envClientID, "acme")
	t.Setenv(envClientSecret, "s3cr3t")

	var stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- runServe([]string{"--addr", "127.0.0.1:0", "--max-concurrent", "2"}, io.Discard, &stderr)
	}()
	var addr string
	select {
	case addr = <-addrc:
	case code := <-exit:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	base := "http://" + addr
	resp, err := http.Get(base + server.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + server.PathReady)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A request whose body is sent in two halves around the signal.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("reference_id", "shutdown-test")
	_ = mw.WriteField("consent", "y")
	_ = mw.WriteField("consent_purpose", "test")
	w, _ := mw.CreateFormFile("image1", "a.jpg")
	_, _ = w.Write(img1)
	w, _ = mw.CreateFormFile("image2", "b.jpg")
	_, _ = w.Write(img2)
	_ = mw.Close()
	data := body.Bytes()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+server.PathFaceMatch, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header["client_id"] = []string{"acme"}
	req.Header["client_secret"] = []string{"s3cr3t"}
	req.ContentLength = int64(len(data))
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		done <- result{resp, err}
	}()
	if _, err := pw.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is now reading the body
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := pw.Write(data[len(data)/2:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("in-flight request failed: %v", r.err)
	}
	defer r.resp.Body.Close()
	var env server.Response
	if err := json.NewDecoder(r.resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if r.resp.StatusCode != 200 || env.Data == nil || !env.Data.IsMatch {
		t.Fatalf("in-flight request: %d %+v", r.resp.StatusCode, env)
	}
	select {
	case code := <-exit:
		if code != exitMatch {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
	if _, err := http.Get(base + server.PathHealth); err == nil {
		t.Error("still accepting connections after shutdown")
	}
	logs := stderr.String()
	for _, want := range []string{"listening", "ready", "shutting down", "reference_id=shutdown-test", "outcome=success_face_scan", "stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "s3cr3t") {
		t.Error("the secret appears in the log")
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"512MiB", 512 << 20, true},
		{"1GiB", 1 << 30, true},
		{"1.5GB", 1_500_000_000, true},
		{"300 MB", 300_000_000, true},
		{"1048576", 1 << 20, true},
		{"64KiB", 64 << 10, true},
		{"", 0, false},
		{"-1MiB", 0, false},
		{"lots", 0, false},
		{"1e30", 0, false},
	}
	for _, tt := range tests {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
