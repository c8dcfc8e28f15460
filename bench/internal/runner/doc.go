// Package runner drives a verification benchmark over a pair list: it embeds
// every distinct image once, in parallel, scores each pair with the cosine
// similarity, and turns the scores into a Report (k-fold accuracy, AUC, TAR
// at FAR 1e-2 and 1e-3, the calibration table) with the metrics of package
// eval. It also reads and writes per-pair score files and draws ROC plots.
//
// The image pipeline is a seam: an EmbedFunc maps an image path to its face
// embedding, or to an error wrapping ErrNoFace when the image has no usable
// face. bench/cmd/lfw plugs in the real decode → detect → align → embed
// pipeline; the tests plug in synthetic embeddings with known answers.
//
// No-face images are never dropped: every pair that involves one gets the
// score NoFaceScore (-1, the lowest cosine, so it is never a match), the
// images are counted in Report.NoFace and listed, and the pairs in
// Report.NoFacePairs. A genuine pair with a no-face image is therefore an
// error at every threshold; an impostor pair with one is a (correct) reject,
// as the product would reject it.
package runner
