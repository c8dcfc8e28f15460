package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestMTCNNDigests(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		size int
		sum  string
	}{{"PNet", PNet(), 32352, PNetSHA256}, {"RNet", RNet(), 407808, RNetSHA256}} {
		if len(c.b) != c.size {
			t.Errorf("%s() is %d bytes, want %d", c.name, len(c.b), c.size)
		}
		s := sha256.Sum256(c.b)
		if got := hex.EncodeToString(s[:]); got != c.sum {
			t.Errorf("%s: sha256 %s, want %s", c.name, got, c.sum)
		}
		if len(c.b) < 8 || string(c.b[4:8]) != "TFL3" {
			t.Errorf("%s: missing TFL3 identifier", c.name)
		}
	}
}
