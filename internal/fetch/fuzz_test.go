package fetch

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParseURL: ParseURL never panics, and whatever it accepts is an
// absolute http(s) URL with a host.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"http://example.com/a.jpg", "https://[::1]:8443/x", "ftp://x", "HTTP://A", "http://", "//x/y", "http://a b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseURL(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("ParseURL(%q) error %v does not wrap ErrInvalidURL", raw, err)
			}
			return
		}
		if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Hostname() == "" {
			t.Fatalf("ParseURL(%q) accepted %#v", raw, u)
		}
	})
}

// FuzzReadAll: ReadAll returns the input exactly when it fits the limit
// and ErrTooLarge otherwise.
func FuzzReadAll(f *testing.F) {
	f.Add([]byte("hello"), int64(5))
	f.Add([]byte("hello"), int64(4))
	f.Add([]byte{}, int64(1))
	f.Fuzz(func(t *testing.T, data []byte, max int64) {
		if max <= 0 || max > 1<<20 {
			return
		}
		// A reader without Len, so the streaming path is taken.
		got, err := ReadAll(io.MultiReader(bytes.NewReader(data)), max)
		if int64(len(data)) > max {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes, limit %d: err %v", len(data), max, err)
			}
			return
		}
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes, limit %d: got %d bytes, %v", len(data), max, len(got), err)
		}
	})
}
