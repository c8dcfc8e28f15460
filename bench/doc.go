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
//   - TestLFWOneFold — the CI accuracy guard: fold 1 of LFW (600 pairs) on
//     the shipped path, asserting accuracy, TAR and no-face floors a little
//     under the measured figures. Skipped under -short and without ../shared.
//   - go run ./bench/cmd/lfw — the full 10-fold LFW benchmark (see its doc).
//     By default every image goes through facematch.Matcher.Embed, the
//     function Matcher.Compare uses, so the scores are Compare's own;
//     --pick center|largest, --landmarks and --no-flip are diagnostics.
//   - go run ./bench/cmd/facepolicy — the false accepts of
//     CompareOptions.BestFace against the default face policy, on LFW
//     impostor pairs with several faces in image2 and on collages.
//
// # Measured (2026-11-30, LFW pairs.txt: 6000 pairs, 7701 images)
//
// The shipped path (branch policy on 22087bd; decode → detect with ONet
// landmarks → largest face → align → embed with flip augmentation, all by
// Matcher.Embed):
//
//	go run ./bench/cmd/lfw --data ../shared/datasets/lfw --roc roc.png --scores lfw-scores.tsv
//
//	accuracy 98.92% ± 0.66 (10-fold), AUC 0.99555, TAR 98.67% @ FAR 1e-2,
//	97.67% @ FAR 1e-3; no face in 5 images (9 pairs, 6 genuine, scored -1);
//	on the 5991 pairs with both faces found: 99.01% ± 0.49. 650 s on 2
//	cores shared with other jobs.
//
// # Earlier (2026-11-26), with the benchmark's own centre-face rule
//
// End to end (commit ffa3e17; central face, now --pick center):
// accuracy 99.13% ± 0.65 (10-fold), AUC 0.99649, TAR 98.93% @ FAR 1e-2,
// 98.10% @ FAR 1e-3; on the 5991 pairs with both faces found: 99.23% ±
// 0.46. 159 s on 2 cores (48 images/s).
//
// At commit 10646a8 (two ONet passes per face, weak windows not verified)
// it was 98.93% ± 0.68, AUC 0.99474, TAR 97.93% @ 1e-3, 9 images without a
// face, 926 s under load (ONet still scalar Go).
// With the earlier cascade-only landmarks (eb1a442) it was 97.78% ± 1.16,
// AUC 0.98461, TAR 95.60% @ 1e-3, 39 no-face images.
//
// Same model, reference landmarks instead of our detector and landmarks:
//
//	go run ./bench/cmd/lfw --data ../shared/datasets/lfw --landmarks ../shared/golden/landmarks/lfw-5point.jsonl
//
//	with flip:    99.18% ± 0.53, AUC 0.99762, TAR 99.00% @ 1e-2, 98.10% @ 1e-3 (313 s)
//	with --no-flip: 99.12% ± 0.54, AUC 0.99763, TAR 98.97% @ 1e-2, 97.73% @ 1e-3 (205 s)
//	(3 images have no reference landmarks and count as no-face pairs.)
//
// So the model reproduces the published figures (98.98% ± 0.61 and TAR
// 97.7% @ 1e-3 without flip, by a slightly different threshold search). The
// centre rule met both goals (≥ 99.0% accuracy, ≥ 97% TAR @ 1e-3); the
// shipped largest-face rule meets the TAR goal and falls 0.08 points short
// of the accuracy goal on LFW, whose photos are centred on the labelled
// person while a bystander is sometimes larger (10 genuine pairs).
//
// The metrics are in bench/internal/eval, the parallel runner and report in
// bench/internal/runner, and the pipeline as the benchmark drives it in
// bench/internal/pipeline.
package bench
