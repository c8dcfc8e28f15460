// Package bench holds the project's performance and accuracy evidence; it
// has no API. Everything lives in its tests and in the LFW tool:
//
//   - go test -run '^$' -bench . ./bench/ — per-stage benchmarks on two
//     ~0.3-megapixel JPEG uploads (the size of a 640x480 photo) made at setup
//     by downscaling the ../shared fixtures obama_portrait_2012 and
//     obama_congress_2009: decode, detect, align, embed (with and without
//     flip augmentation), one image through the whole pipeline, and
//     facematch.Matcher.Compare end to end, sequential and in parallel. All
//     report allocations. They skip when ../shared is absent.
//   - TestLFWOneFold — the CI accuracy guard: fold 1 of LFW (600 pairs) end to
//     end, asserting accuracy, TAR and no-face floors a little under the
//     measured figures. Skipped under -short and without ../shared.
//   - go run ./bench/cmd/lfw — the full 10-fold LFW benchmark (see its doc).
//
// The metrics are in bench/internal/eval, the parallel runner and report in
// bench/internal/runner, and the pipeline as the benchmark drives it in
// bench/internal/pipeline.
package bench
