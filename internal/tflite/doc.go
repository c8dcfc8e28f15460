// Package tflite reads TensorFlow Lite model files (.tflite) without cgo or
// generated code: a small, bounds-checked FlatBuffers reader decodes the parts
// of the TFLite schema a float CNN needs.
//
// # What a .tflite file is
//
// A .tflite file is a FlatBuffer whose root table is a Model (file identifier
// "TFL3" at byte 4). FlatBuffers store tables as an int32 offset to a vtable
// (a list of uint16 field offsets, 0 = field absent, default value applies)
// followed by inline fields; references to sub-tables, vectors and strings
// are uint32 offsets relative to where they are stored. Parse follows those
// offsets and checks each against the byte slice, so corrupt or truncated
// input returns an error wrapping ErrFormat instead of panicking.
//
// The parts decoded:
//
//   - Model: version, description, operator_codes, subgraphs, buffers.
//   - OperatorCode: builtin_code and the older deprecated_builtin_code (the
//     effective code is the larger of the two), custom_code, version.
//   - SubGraph: tensors (name, shape, type, buffer index), input and output
//     tensor indices, operators in execution order.
//   - Operator: opcode index, input/output tensor indices (-1 = omitted
//     optional input) and the builtin options of Conv2D, DepthwiseConv2D
//     (padding, strides, dilation, depth multiplier, fused activation),
//     Pool2D, FullyConnected, Softmax, Concatenation, Add/Sub/Mul and Reshape.
//   - Buffer: the raw bytes of constant tensors (weights), which alias the
//     input slice; Float32s and Int32s decode them (little-endian).
//
// Layouts follow TFLite conventions: activations are NHWC, Conv2D weights
// [out, kh, kw, in], DepthwiseConv2D weights [1, kh, kw, channels].
//
// # Into the network runtime
//
// Load (Model.Graph) translates a parsed float CNN into an nn.Graph for the
// internal/nn runtime: layouts become nn's, SAME padding explicit pads, and
// the operator patterns exporters write for PReLU and softmax single nodes,
// with activations folded into the layer before them (a softmax over the
// channels of a spatial tensor, P-Net's per-pixel face probability, becomes
// nn.SoftmaxChannels). MobileFaceNet (package embed), MTCNN's ONet
// (internal/onet) and its P-Net and R-Net (internal/mtcnn) load this way. Operators and options it does not know
// give an error wrapping ErrUnsupported.
package tflite
