package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"
)

// errBodyTimeout: the body arrived slower than the minimum upload rate (or
// not within the body timeout).
var errBodyTimeout = errors.New("request body too slow")

// rateReader enforces a minimum average upload rate after a grace period:
// having read n bytes, the next byte must arrive before
// start + grace + n/rate (and before the hard deadline). It moves the
// connection's read deadline with http.ResponseController, so a client
// dripping one byte per second is cut after the grace period, cheaply (no
// goroutine, no timer of our own).
type rateReader struct {
	r        io.Reader
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     float64 // bytes per second
	hard     time.Time
	n        int64
	timedOut bool
	noDL     bool // the connection has no settable deadline
}

func (b *rateReader) Read(p []byte) (int, error) {
	if !b.noDL {
		dl := b.start.Add(b.grace + time.Duration(float64(b.n)/b.rate*float64(time.Second)))
		if dl.After(b.hard) {
			dl = b.hard
		}
		if err := b.rc.SetReadDeadline(dl); err != nil {
			b.noDL = true
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err != nil && isTimeout(err) {
		b.timedOut = true
		return n, errBodyTimeout
	}
	return n, err
}

// done clears the deadline set for the body, so writing the answer and the
// next request on the connection get the http.Server's own.
func (b *rateReader) done() {
	if !b.noDL {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// WrapListener makes the connections of ln answer the errors that
// net/http writes itself, before any handler runs (a malformed, too large
// or too slowly sent request header: plain-text 400 or 431), with the
// service's JSON envelope instead. NewHTTPServer's server should Serve on
// it.
func WrapListener(ln net.Listener) net.Listener { return envelopeListener{ln} }

type envelopeListener struct{ net.Listener }

func (l envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &envelopeConn{Conn: c}, nil
}

type envelopeConn struct{ net.Conn }

// rawError matches the exact response net/http writes on a bad request
// header (one Write, no Date or Content-Length header): handler answers
// always carry Content-Length and never match.
var rawError = regexp.MustCompile(`\AHTTP/1\.[01] (4\d\d) [^\r\n]*\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n[^\r\n]*\z`)

func (c *envelopeConn) Write(p []byte) (int, error) {
	if len(p) > 300 || !bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return c.Conn.Write(p)
	}
	m := rawError.FindSubmatch(p)
	if m == nil {
		return c.Conn.Write(p)
	}
	code := CodeInvalidRequest
	code.Status = atoi3(m[1])
	msg := "The request header is malformed, too large, or was sent too slowly."
	b, _ := jsonEnvelope(newTxnID(), code, msg)
	hdr := "HTTP/1.1 " + string(m[1]) + " " + http.StatusText(code.Status) + "\r\n" +
		"Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n" +
		"Connection: close\r\nContent-Length: " + itoa(len(b)) + "\r\n\r\n"
	if _, err := c.Conn.Write(append([]byte(hdr), b...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func atoi3(b []byte) int { return int(b[0]-'0')*100 + int(b[1]-'0')*10 + int(b[2]-'0') }
