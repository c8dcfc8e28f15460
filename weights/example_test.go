package weights_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/facematch/facematch/weights"
)

// The bundled model is the verbatim .tflite file; its digest is pinned.
func ExampleMobileFaceNet() {
	b := weights.MobileFaceNet()
	sum := sha256.Sum256(b)
	fmt.Println(len(b), string(b[4:8]), hex.EncodeToString(sum[:]) == weights.MobileFaceNetSHA256)
	// Output: 5233396 TFL3 true
}
