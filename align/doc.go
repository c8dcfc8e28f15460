// Package align turns five facial landmarks into the 112x112 face crop that
// ArcFace-family embedding models (MobileFaceNet included) were trained on.
//
// The landmarks are, in this order, the left eye centre, the right eye
// centre, the nose tip, the left mouth corner and the right mouth corner
// ("left" as seen in the image: the left eye has the smaller x). They are
// r2.Vec values in the pixel coordinates of the image: x to the right, y
// down, and — the OpenCV convention — the centre of the pixel at column i,
// row j is the point (i, j). For an image whose Bounds().Min is not (0, 0),
// coordinates are those of img.At: the pixel at Bounds().Min has its centre
// at (Min.X, Min.Y).
//
// Estimate finds the similarity transform (rotation, uniform scale and
// translation; never a reflection) that maps the landmarks onto Template in
// the least-squares sense (Umeyama 1991; in two dimensions it has a closed
// form, the complex-number least-squares solution, which this package uses).
//
// Crop computes that transform from the landmarks to Template and samples the
// full-resolution image through its inverse with bilinear interpolation,
// exactly as OpenCV's cv2.warpAffine(img, M, (112, 112)) does with
// INTER_LINEAR and BORDER_CONSTANT 0 — the alignment ArcFace-family models
// were trained with (insightface's norm_crop). Output pixel (u, v) takes the
// colour at M⁻¹(u, v), rounded to 1/32 pixel, with OpenCV's fixed-point
// weights and rounding, so the crop is bit-identical to OpenCV's (a test
// checks it against a crop made by OpenCV 4.6 from Debian's python3-opencv:
// align/testdata/opencv_crop.py). A neighbour that lies outside the image
// counts as black, so a face at the image border fades into black at the
// crop's edge. The result is an opaque *image.RGBA of Size x Size, ready for
// the embedder. Images with an alpha channel are composited over black first.
//
// *image.YCbCr (JPEG), *image.RGBA, *image.NRGBA and *image.Gray are read
// straight from their pixel buffers; any other image.Image goes through At.
// Output is deterministic (no floating-point reductions that depend on
// scheduling), and the package holds no state, so it is safe for concurrent
// use.
package align
