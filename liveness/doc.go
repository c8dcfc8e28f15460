// Package liveness tells a live face in front of the camera from a
// presentation attack — a printed photo or a screen showing a face — on a
// single photo ("passive" liveness: nothing is asked of the user).
//
// # Use
//
//	c, err := liveness.New(nil)                              // bundled networks, default threshold
//	r, err := c.Check(img, liveness.FromDetector(face.Box))  // face from package detect
//	if r.Live { ... }                                        // r.Score in [0, 1]
//
// Most callers use facematch's Matcher.Liveness (or CompareOptions.Liveness),
// which decodes, detects and calls this package.
//
// # What it does
//
// It runs minivision's Silent-Face-Anti-Spoofing ensemble (Apache-2.0):
// MiniFASNetV2 on the face box grown 2.7 times and MiniFASNetV1SE (with
// squeeze-excitation) on the box grown 4 times, each resized to an 80x80
// BGR patch with values 0-255. Each network gives three logits (classes 0
// and 2 attacks, 1 real face); Score is the mean of the two real-face
// softmax probabilities, as in the original, and Live is Score >=
// Threshold. The crop follows the original exactly (CropBox: grow around
// the centre, shift to stay inside, truncate) and so does the resize
// (Patch: OpenCV's 8-bit bilinear, including its rounding), because these
// networks are sensitive: one grey level of rounding moves a softmax by up
// to 1e-2.
//
// The weights are the original PyTorch state dicts, bundled byte for byte
// in package weights (SHA-256 checked there), read with internal/nn/pytorch
// and rebuilt into nn graphs from their parameter names with every
// BatchNorm folded (LoadGraph). On PyTorch's own patches the logits match
// within 1e-4 (the golden test's tolerance). From the image, the softmax matches within
// 1e-3 on a PNG; JPEGs differ a little because Go's JPEG decoder and
// libjpeg-turbo differ (IDCT; and chroma upsampling, which Patch copies
// from libjpeg for 4:2:0 images but which is lost when an EXIF rotation
// was applied first): up to 0.005 (unrotated) and 0.013 (rotated) on the
// golden images (see TestGoldenCrop).
//
// The original crops around its own detector's boxes. FromDetector maps a
// box of package detect onto that convention (a little narrower, lower);
// on the 13 golden images it moves the ensemble score by 0.012 on average
// from the score on minivision's box, against 0.054 without the mapping
// (testdata/boxmap.md).
//
// # What it is for, and not
//
// It is meant for print and screen replay attacks on a single frame, as a
// risk signal next to face matching. It does not detect 3-D masks, and it
// cannot detect deepfakes or recordings injected into the camera feed
// (those never pass in front of a lens). The training data is undisclosed;
// the default threshold was chosen on NUAA (webcam, printed photos) and
// every figure in testdata/threshold.md is for those conditions only. Run
// bench/cmd/liveness on photos from your own capture conditions before
// relying on the threshold.
//
// A Checker is safe for concurrent use and deterministic.
package liveness
