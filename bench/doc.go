// Package bench holds the project's performance and accuracy evidence; it
// has no API. Everything lives in its tests and in its tools:
//
//   - go test -run '^$' -bench . ./bench/ — per-stage benchmarks on two
//     ~0.3-megapixel JPEG uploads (the size of a 640x480 photo) made at setup
//     by downscaling two ../shared fixtures: decode, detect, align, embed
//     (with and without flip augmentation), one image through the whole
//     pipeline, and facematch.Matcher.Compare end to end, sequential and in
//     parallel. All report allocations. They skip when ../shared is absent.
//   - TestLFWOneFold — the CI accuracy guard: fold 1 of LFW (600 pairs) on
//     the shipped path, asserting accuracy, TAR and no-face floors a little
//     under the measured figures. Skipped under -short and without ../shared.
//   - go run ./bench/cmd/lfw — the 10-fold LFW benchmark, and the same
//     protocol on other pair lists (--data, --pairs). By default every image
//     goes through facematch.Matcher.Embed, the function Matcher.Compare
//     uses, so the scores are Compare's own; --pick center|largest,
//     --landmarks and --no-flip are diagnostics.
//   - go run ./bench/cmd/calibrate — rebuilds weights/calibration.json (the
//     score normaliser and calibration) from per-image embeddings; the fit
//     itself is bench/internal/calfit.
//   - go run ./bench/cmd/facepolicy — the false accepts of
//     CompareOptions.BestFace against the default face policy.
//   - go run ./bench/cmd/gallery and ./bench/cmd/liveness — open-set
//     identification and gallery speed; liveness scores and threshold.
//
// Figures are not kept here: BENCHMARKS.md (speed and the LFW accuracy
// history), compare/CALIBRATION.md (the calibration's per-set rates),
// gallery/MEASUREMENTS.md and liveness/testdata/threshold.md hold them,
// each dated and with the command that produced it.
//
// The metrics are in bench/internal/eval, the parallel runner and report in
// bench/internal/runner, the pipeline as the benchmark drives it in
// bench/internal/pipeline, and the tools' lookup of ../shared in
// bench/internal/dataset.
package bench
