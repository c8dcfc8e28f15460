// Package nn is the one description of a convolutional network that every
// network facematch runs is turned into: MobileFaceNet (embedding), MTCNN's
// networks (detection, landmarks) and MiniFASNet (liveness).
//
// A Graph is a list of Nodes in execution order over values of shape
// C x H x W (float32, channel-major: index c*H*W + y*W + x). Value 0 is the
// input; node i writes value i+1. Loaders turn a model file (TFLite
// flatbuffer, PyTorch state dict) into a Graph, folding what is only a
// training-time or file-format detail — batch normalisation into the
// preceding convolution or fully connected layer, decomposed activations
// into one Act, NHWC weight layouts into the layouts below — so that a
// runtime sees few, plain operations.
//
// Validate checks a Graph and infers every value's shape. Reference runs a
// Graph with plain loops and float64 accumulation: it defines what each
// operation means, and a fast runtime is tested against it. It is slow and
// meant for tests and tools, not for serving.
//
// # The runtime
//
// Compile turns a Graph into a Net, which Run (values in C, H, W order) or
// RunHWC (H, W, C order, caller's buffers, no allocation of its own) runs.
// Inside, every value is kept in H, W, C order, the layout images and TFLite
// use, so that a convolution is one GEMM over im2col rows (internal/gemm,
// weights packed once at Compile) with bias and activation fused into the
// GEMM's epilogue; depthwise convolutions run tap by tap with gemm.RowFMA;
// a Dense layer's weights are reordered once for its H, W, C input.
//
// A Net is executed through Gorgonia: each worker is a Gorgonia expression
// graph and tape machine. The graph has one node per stage — a run of
// consecutive nodes whose outputs share one spatial resolution — whose Op
// runs the stage's kernels over buffers the worker owns (shared between
// values by liveness) and returns a preallocated tensor; the graph's edges
// are the stages' data dependencies. Paying the tape machine's
// per-instruction bookkeeping once per stage rather than once per layer
// keeps a forward pass to a few dozen small allocations. A VM must not be
// shared by goroutines and building graphs concurrently races inside
// Gorgonia, so a Net keeps a pool of up to CompileOptions.Workers workers,
// built one at a time on first use. Every sum runs in a fixed order: the
// same input gives the same bits on every run and every worker.
package nn
