// Package sample reads pixels for the networks and the aligner: 8-bit RGB
// and luma from any image.Image (straight from the pixel buffer for the
// decoded types — YCbCr, RGBA, NRGBA, Gray — and through At otherwise),
// whole rows, 2x2 blocks for bilinear filters, and a bilinear sample at a
// fractional position.
//
// # Conventions
//
// Coordinates are the image's own pixel indices (Bounds().Min is not
// assumed to be the origin); in the bilinear samplers pixel centres are at
// integers.
//
// Colours are composited over black: a pixel with alpha a reads as its
// colour times a/255 (image/color's alpha-premultiplied RGBA, shifted to 8
// bits). For opaque images, which every decoded photograph is, that is the
// colour itself.
//
// Pixels outside the image are black (0, 0, 0) wherever a sampler may
// reach them (RGBOrBlack, AddBilinear, Patch) — OpenCV's BORDER_CONSTANT
// 0, which the aligner must reproduce, and zero weight for a network's
// crop that hangs over the edge. RGB and Quad are for positions known to be
// inside and do not check.
package sample
