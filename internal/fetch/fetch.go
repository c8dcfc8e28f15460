// Package fetch reads untrusted image bytes with a size cap: from an
// io.Reader, a file, or an http(s) URL. The URL client is hardened against
// server-side request forgery: http/https only, at most MaxRedirects
// redirects, an overall timeout, and — unless private destinations are
// allowed — every connection (the first and each redirect's) is refused when
// the IP address it is about to connect to, after DNS resolution, is
// loopback, private, link-local, unspecified, multicast or otherwise
// non-public. The check runs in the dialer, on the address actually dialled,
// so DNS rebinding between a check and the connect cannot bypass it.
//
// The facematch package re-exports the errors below.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Errors; all returned errors wrap one of them (plus the cause).
var (
	ErrTooLarge     = errors.New("image exceeds the size limit")
	ErrInvalidURL   = errors.New("invalid image URL")
	ErrForbiddenURL = errors.New("image URL points to a forbidden (private, loopback or link-local) address")
	ErrFetch        = errors.New("fetching the image URL failed")
	ErrFetchTimeout = errors.New("fetching the image URL timed out")
)

// Defaults.
const (
	DefaultMaxBytes = 6 << 20
	DefaultTimeout  = 15 * time.Second
	MaxRedirects    = 3
)

// ReadAll reads r to the end, refusing (ErrTooLarge) more than max bytes
// without ever holding more than max+1 of them.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	var buf []byte
	if n, ok := sizeHint(r); ok {
		if n > max {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, max)
		}
		buf = make([]byte, 0, n+1)
	}
	b, err := readLimited(r, max, buf)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func readLimited(r io.Reader, max int64, buf []byte) ([]byte, error) {
	lr := io.LimitReader(r, max+1)
	if buf == nil {
		buf = make([]byte, 0, 64<<10)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func sizeHint(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		return int64(v.Len()), true
	}
	return 0, false
}

// File reads the file at path, refusing (ErrTooLarge) files over max bytes
// before reading them.
func File(path string, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	var buf []byte
	if st.Mode().IsRegular() {
		if st.Size() > max {
			return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLarge, path, st.Size(), max)
		}
		buf = make([]byte, 0, st.Size()+1)
	}
	b, err := readLimited(f, max, buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Config configures a Client. The zero value is usable.
type Config struct {
	// AllowPrivate permits loopback, private and link-local destinations
	// (tests, or a service that fetches from its own network on purpose).
	AllowPrivate bool
	// Base, when non-nil, provides the Transport. An *http.Transport is
	// cloned and its dialer replaced by the checking one (proxies are
	// disabled, since a proxy would hide the destination); any other
	// RoundTripper is used as is, and destinations are then checked by
	// resolving the host before each request and redirect (not DNS-rebinding
	// safe). Base's CheckRedirect, Jar and Timeout are not used.
	Base *http.Client
	// Timeout bounds the whole fetch, body included (0 → DefaultTimeout).
	Timeout time.Duration
	// MaxBytes caps the body (0 → DefaultMaxBytes).
	MaxBytes int64
}

// Client fetches image URLs. It is safe for concurrent use.
type Client struct {
	hc         *http.Client
	timeout    time.Duration
	maxBytes   int64
	preResolve bool // check destinations before the request (non-*http.Transport base)
	allow      bool
	resolver   *net.Resolver
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{timeout: cfg.Timeout, maxBytes: cfg.MaxBytes, allow: cfg.AllowPrivate, resolver: net.DefaultResolver}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		dialer.Control = controlDestination
	}
	var rt http.RoundTripper
	var base http.RoundTripper
	if cfg.Base != nil {
		base = cfg.Base.Transport
	}
	switch t := base.(type) {
	case nil:
		def, ok := http.DefaultTransport.(*http.Transport)
		if !ok { // replaced by the program: start from a plain transport
			def = &http.Transport{ForceAttemptHTTP2: true, MaxIdleConns: 100, IdleConnTimeout: 90 * time.Second}
		}
		rt = newTransport(def.Clone(), dialer)
	case *http.Transport:
		rt = newTransport(t.Clone(), dialer)
	default:
		rt = t
		c.preResolve = !cfg.AllowPrivate
	}
	c.hc = &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrFetch, MaxRedirects)
			}
			if err := checkURL(req.URL); err != nil {
				return fmt.Errorf("redirect: %w", err)
			}
			if !c.allow {
				if err := checkHostName(req.URL.Hostname()); err != nil {
					return fmt.Errorf("redirect: %w", err)
				}
			}
			if c.preResolve {
				return c.checkHost(req.Context(), req.URL.Hostname())
			}
			return nil
		},
	}
	return c
}

func newTransport(t *http.Transport, d *net.Dialer) *http.Transport {
	t.Proxy = nil
	t.DialContext = d.DialContext
	t.DialTLSContext = nil
	// The deprecated hooks are cleared too: they must not bypass the
	// checking dialer.
	//lint:ignore SA1019 clearing a deprecated field, not using it
	t.DialTLS = nil
	//lint:ignore SA1019 clearing a deprecated field, not using it
	t.Dial = nil
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 15 * time.Second
	t.MaxResponseHeaderBytes = 64 << 10
	return t
}

// ParseURL parses and validates an image URL: absolute http or https with a
// host. Errors wrap ErrInvalidURL.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

func checkURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w: scheme %q (only http and https)", ErrInvalidURL, u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: %q has no host", ErrInvalidURL, Safe(u))
	}
	return nil
}

// Get fetches rawURL and returns its body (at most MaxBytes).
func (c *Client) Get(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if !c.allow {
		if err := checkHostName(u.Hostname()); err != nil {
			return nil, fmt.Errorf("%s: %w", Safe(u), err)
		}
	}
	if c.preResolve {
		if err := c.checkHost(ctx, u.Hostname()); err != nil {
			return nil, c.classify(ctx, u, err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	req.Header.Set("Accept", "image/jpeg, image/png")
	req.Header.Set("User-Agent", "facematch")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.classify(ctx, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return nil, fmt.Errorf("%w: %s: HTTP %s without a usable Location", ErrFetch, Safe(u), resp.Status)
		}
		return nil, fmt.Errorf("%w: %s: HTTP %s", ErrFetch, Safe(u), resp.Status)
	}
	if resp.ContentLength > c.maxBytes {
		return nil, fmt.Errorf("%w: %s declares %d bytes, limit %d", ErrTooLarge, Safe(u), resp.ContentLength, c.maxBytes)
	}
	var buf []byte
	if resp.ContentLength >= 0 {
		buf = make([]byte, 0, resp.ContentLength+1)
	}
	b, err := readLimited(resp.Body, c.maxBytes, buf)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("%s: %w", Safe(u), err)
		}
		return nil, c.classify(ctx, u, err)
	}
	return b, nil
}

// classify maps a transport error to the package's sentinels.
func (c *Client) classify(ctx context.Context, u *url.URL, err error) error {
	switch {
	case errors.Is(err, ErrForbiddenURL), errors.Is(err, ErrInvalidURL), errors.Is(err, ErrTooLarge):
		return fmt.Errorf("%s: %w", Safe(u), unwrapURLError(err))
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %s: %w", ErrFetch, Safe(u), context.Canceled)
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || isTimeout(err):
		return fmt.Errorf("%w: %s (limit %v): %w", ErrFetchTimeout, Safe(u), c.timeout, context.DeadlineExceeded)
	case errors.Is(err, ErrFetch):
		return fmt.Errorf("%s: %w", Safe(u), unwrapURLError(err))
	}
	return fmt.Errorf("%w: %s: %v", ErrFetch, Safe(u), unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// controlDestination is the net.Dialer Control hook: it runs after DNS
// resolution, on the exact address about to be connected.
func controlDestination(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrForbiddenURL, address, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrForbiddenURL, host)
	}
	if !allowIP(ip) {
		return fmt.Errorf("%w: %s", ErrForbiddenURL, ip)
	}
	return nil
}

// allowIP decides whether a destination may be dialled; a variable so tests
// can mark one loopback address as public and another as forbidden.
var allowIP = Public

func (c *Client) checkHost(ctx context.Context, host string) error {
	if c.allow {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !allowIP(ip) {
			return fmt.Errorf("%w: %s", ErrForbiddenURL, ip)
		}
		return nil
	}
	addrs, err := c.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: resolving %s: %v", ErrFetch, host, err)
	}
	for _, a := range addrs {
		if !allowIP(a) {
			return fmt.Errorf("%w: %s resolves to %s", ErrForbiddenURL, host, a)
		}
	}
	return nil
}

// nonPublic lists special-purpose ranges (IANA registries) beyond what the
// netip predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: could reach any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated, still routed internally)
	netip.MustParsePrefix("::/96"),           // IPv4-compatible ::a.b.c.d (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated ::ffff:0:a.b.c.d (SIIT)
}

// Public reports whether ip is a globally routable unicast address that a
// URL fetch may connect to: not loopback, private (RFC 1918, fc00::/7),
// link-local, unspecified, multicast, or another special-purpose range.
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || !ip.IsGlobalUnicast() {
		return false
	}
	ip = ip.WithZone("")
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Safe is the URL as it may be logged: scheme, host and path, without
// userinfo, query or fragment (pre-signed URLs carry their signature in the
// query).
func Safe(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}

// SafeString is Safe on a raw URL; "URL" when it does not parse.
func SafeString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "URL"
	}
	return Safe(u)
}

// checkHostName refuses, before any resolution, host names that mean this
// machine or that resolvers read differently: "localhost" and *.localhost
// (RFC 6761, trailing dot or not), and the legacy numeric forms of IPv4
// (2130706433, 0x7f000001, 0177.0.0.1, 127.1) that inet_aton-style
// resolvers accept but netip does not, which would otherwise escape the
// address check and reach the resolver.
func checkHostName(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: %s", ErrForbiddenURL, host)
	}
	if ip, ok := legacyIPv4(h); ok {
		if _, err := netip.ParseAddr(h); err == nil {
			return nil // canonical dotted quad: judged by the address check
		}
		if !allowIP(ip) {
			return fmt.Errorf("%w: %s means %s", ErrForbiddenURL, host, ip)
		}
		return fmt.Errorf("%w: numeric host %q is not a dotted-quad IPv4 address", ErrInvalidURL, host)
	}
	return nil
}

// legacyIPv4 parses the forms inet_aton accepts: 1 to 4 dot-separated
// parts, each decimal, octal (leading 0) or hex (0x); the last part fills
// the remaining bytes.
func legacyIPv4(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 2 && (p[:2] == "0x"):
			base, p = 16, p[2:]
		case p == "0x":
			p, base = "0", 10
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		if p == "" {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i, v := range vals[:last] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	if vals[last] >= 1<<(8*uint(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}
