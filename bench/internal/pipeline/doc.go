// Package pipeline is the benchmark's view of the facematch pipeline: it
// turns image files of a dataset into face embeddings for runner.Run.
//
// By default (PickShipped) every image goes through facematch.Matcher.Embed
// with default options — the function Matcher.Compare itself uses to decode
// an image, find its faces, choose the one to compare (the largest usable)
// and embed it. A pair's cosine is therefore bit-identical to the
// Result.Similarity Compare returns for it (TestShippedPathEqualsCompare),
// and every accuracy figure and calibration fitted from these scores
// describes what Compare ships. Nothing of a dataset's own alignment is
// used.
//
// Three switches exist as labelled diagnostics only; they re-implement the
// steps (internal/imageio, detect, align, embed) instead of calling the
// Matcher:
//
//   - Reference landmarks (Options.Landmarks, loaded with LoadLandmarks from
//     ../shared/golden/landmarks/lfw-5point.jsonl) replace detection, so the
//     accuracy lost to our detector and aligner can be told from the model's.
//     An image missing from the reference file counts as "no face".
//   - Options.Pick = PickCenter (the face whose box centre is nearest the
//     image centre; LFW labels that face, and the reference landmarks were
//     picked the same way) or PickLargest.
//   - Options.DisableFlip turns off flip test-time augmentation.
//
// Pipeline.Embed has the signature of runner.EmbedFunc and is safe for
// concurrent use.
package pipeline
