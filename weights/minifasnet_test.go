package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestMiniFASNetBytesMatchProvenance(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want string
		size int
	}{
		{"MiniFASNetV2", MiniFASNetV2(), MiniFASNetV2SHA256, 1849453},
		{"MiniFASNetV1SE", MiniFASNetV1SE(), MiniFASNetV1SESHA256, 1856130},
	} {
		sum := sha256.Sum256(tc.b)
		if got := hex.EncodeToString(sum[:]); got != tc.want || len(tc.b) != tc.size {
			t.Errorf("%s: %d bytes, sha256 %s; want %d bytes, %s", tc.name, len(tc.b), got, tc.size, tc.want)
		}
	}
}
