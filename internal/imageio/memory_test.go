package imageio

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"testing"
)

// setSOF rewrites the frame marker of a baseline JPEG (SOF0) to m.
func setSOF(t *testing.T, data []byte, m byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	out[i+1] = m
	return out
}

func TestEstimate(t *testing.T) {
	const w, h = 300, 200
	px := int64(w * h)
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	rgba64 := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for i := range rgba64.Pix {
		rgba64.Pix[i] = byte(i * 7)
		rgba.Pix[i%len(rgba.Pix)] = byte(i)
	}
	gray16 := image.NewGray16(image.Rect(0, 0, w, h))
	gray16.Set(3, 3, color.Gray16{Y: 999})
	base := encodeJPEG(t, rgba)
	cases := []struct {
		name     string
		data     []byte
		min, max int64 // pixel bytes, detector copies excluded
	}{
		{"png 8-bit RGBA", encodePNG(t, rgba), 4 * px, 5 * px},
		{"png 16-bit RGBA", encodePNG(t, rgba64), 16 * px, 17 * px},
		{"png 16-bit grey", encodePNG(t, gray16), 4 * px, 5 * px},
		{"jpeg baseline 4:2:0", base, 3 * px / 2, 2 * px},
		{"jpeg progressive 4:2:0", setSOF(t, base, 0xC2), 15 * px / 2, 9 * px},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cost, err := Estimate(c.data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if cost.Width != w || cost.Height != h {
				t.Fatalf("size %dx%d", cost.Width, cost.Height)
			}
			pix := cost.Bytes - DetectorBytes(w, h) - int64(len(c.data))
			if pix < c.min || pix > c.max {
				t.Errorf("pixel bytes %d, want [%d, %d]", pix, c.min, c.max)
			}
		})
	}
}

// The bombs: small files whose decode costs over a gigabyte. Only
// the header is built; Estimate must price it without decoding.
func TestEstimateBombHeader(t *testing.T) {
	// A 6000x6600 16-bit RGBA PNG: IHDR only is enough for the estimate.
	small := encodePNG(t, image.NewNRGBA64(image.Rect(0, 0, 1, 1)))
	hdr := bytes.Clone(small)
	put := func(off int, v uint32) {
		hdr[off], hdr[off+1], hdr[off+2], hdr[off+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	put(16, 6000)
	put(20, 6600)
	put(29, crc32.ChecksumIEEE(hdr[12:29]))
	cost, err := Estimate(hdr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(16 * 6000 * 6600); cost.Bytes < want {
		t.Errorf("16-bit 6000x6600: estimated %d bytes, want ≥ %d", cost.Bytes, want)
	}
}

func TestArithmeticJPEGUnsupported(t *testing.T) {
	base := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 16, 16)))
	for _, m := range []byte{0xC9, 0xCA, 0xCB} {
		data := setSOF(t, base, m)
		if _, _, err := Decode(data, nil); !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("SOF %#x: Decode error %v, want ErrUnsupportedFormat", m, err)
		}
		if _, err := Estimate(data, nil); !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("SOF %#x: Estimate error %v, want ErrUnsupportedFormat", m, err)
		}
	}
	// A lossless (SOF3) frame: valid JPEG, not implemented by image/jpeg.
	if _, _, err := Decode(setSOF(t, base, 0xC3), nil); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("SOF3: %v, want ErrUnsupportedFormat", err)
	}
}

func TestDecodeContextCancelled(t *testing.T) {
	data := encodePNG(t, image.NewNRGBA(image.Rect(0, 0, 64, 64)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := DecodeContext(ctx, data, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if _, _, err := DecodeContext(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
}

// TestDetectorBytes: the detector's share follows its working copy's long
// side (at most 1024 px) and never exceeds DetectorCopyBytes.
func TestDetectorBytes(t *testing.T) {
	cases := []struct {
		w, h int
		want int64
	}{
		{1024, 1024, 19*1024*1024 + 6<<20},
		{4096, 4096, 19*1024*1024 + 6<<20}, // downscaled to 1024x1024
		{30000, 24, 19*1024*1024 + 6<<20},  // and 1024x1
		{640, 480, 19*640*640 + 6<<20},
		{480, 640, 19*640*640 + 6<<20},
		{0, 0, 6 << 20},
	}
	for _, c := range cases {
		got := DetectorBytes(c.w, c.h)
		if got != c.want {
			t.Errorf("DetectorBytes(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
		if got > DetectorCopyBytes {
			t.Errorf("DetectorBytes(%d, %d) = %d over DetectorCopyBytes %d", c.w, c.h, got, DetectorCopyBytes)
		}
	}
}
