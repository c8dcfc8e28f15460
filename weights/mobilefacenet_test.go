package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestMobileFaceNetDigest(t *testing.T) {
	b := MobileFaceNet()
	if len(b) != 5233396 {
		t.Fatalf("MobileFaceNet() is %d bytes, want 5233396", len(b))
	}
	s := sha256.Sum256(b)
	if got := hex.EncodeToString(s[:]); got != MobileFaceNetSHA256 {
		t.Fatalf("sha256 %s, want %s", got, MobileFaceNetSHA256)
	}
	if string(b[4:8]) != "TFL3" {
		t.Fatalf("missing TFL3 identifier")
	}
}
