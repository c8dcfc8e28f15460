// Package pipeline is the benchmark's view of the public facematch pipeline:
// read an image file, decode it (internal/imageio: JPEG/PNG, EXIF
// orientation), find the face (detect), align it to the model's 112x112 input
// (align) and embed it (embed). Nothing of a dataset's own alignment is used.
//
// Two switches exist for measurement only:
//
//   - Reference landmarks (Options.Landmarks, loaded with LoadLandmarks from
//     ../shared/golden/landmarks/lfw-5point.jsonl) replace detection, so the
//     accuracy lost to our detector and aligner can be told from the model's.
//     An image missing from the reference file counts as "no face".
//   - Options.Pick chooses among several detected faces: PickCenter (the
//     face whose box centre is nearest the image centre; LFW labels that face,
//     and the reference landmarks were picked the same way) or PickLargest
//     (what facematch.Matcher does for a reference image).
//
// Pipeline.Embed has the signature of runner.EmbedFunc and is safe for
// concurrent use (detector and embedder both are).
package pipeline
