// Package imageio decodes the images that facematch accepts: JPEG and PNG,
// recognised by their content (never by file name or Content-Type).
//
// Decode is the single entry point used by the rest of the module. In order it
//
//  1. sniffs the format from the first bytes (Sniff): JPEG (FF D8 FF) or PNG
//     (the 8-byte PNG signature). GIF, WebP, BMP, TIFF, HEIC, text and every
//     other content is refused with ErrUnsupportedFormat; 0 bytes, or a prefix
//     of a signature that ends too early, is ErrCorruptImage.
//  2. reads only the header (image/jpeg or image/png DecodeConfig) and refuses
//     decompression bombs before any pixel buffer is allocated: more than
//     Options.MaxPixels pixels (DefaultMaxPixels = 40 million) or a side
//     longer than Options.MaxSide (DefaultMaxSide = 30000) is
//     ErrImageTooLarge. A 20000x20000 PNG header costs a few hundred bytes to
//     send and would need 1.6 GB to decode; it is refused in microseconds.
//  3. decodes the pixels. Truncated or malformed data is ErrCorruptImage; a
//     panic inside a decoder is recovered and reported as ErrCorruptImage too.
//  4. applies the EXIF orientation of JPEGs (Orientation), which Go's
//     image/jpeg ignores. All eight values are handled: 2 mirror, 3 rotate
//     180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate
//     90 counter-clockwise. The result is what a photo viewer displays.
//     Orient applies an orientation to any image.Image on its own.
//
// When no reorientation is needed the decoder's own image is returned
// unchanged (usually *image.YCbCr for JPEG, *image.Gray for grey JPEGs, and
// *image.RGBA, *image.NRGBA, *image.Gray, *image.Paletted, ... for PNG), with
// no copy. A reoriented grey image is an *image.Gray; every other reoriented
// image is an *image.RGBA. Returned images always have Bounds().Min == (0, 0).
//
// Errors are the exported sentinels, wrapped with detail; test them with
// errors.Is. The package is safe for concurrent use: it has no state.
package imageio
