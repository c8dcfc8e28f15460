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
package nn
