// Package onet runs the output network (ONet) of MTCNN, the multi-task cascaded
// face detector of Zhang et al. (2016), as a landmark refiner.
//
// Given a face box from any detector, ONet looks at a 48x48 crop of it and
// returns the five standard landmarks (eye centres, nose tip, mouth corners),
// a refined box and a face probability. The embedding model the project uses
// was trained on faces aligned with exactly these five points, so refining
// pigo's box with ONet gives crops that look like the model's training data.
//
// The network comes as a TFLite flatbuffer (the onet.tflite bundled in package
// weights). New loads it into an nn.Graph with package tflite, which folds
// the export's decomposed PReLUs (relu(x) + alpha·(−relu(−x)) over six
// element-wise operators) into the convolutions and the 256-unit layer and
// its decomposed softmax into one node, and runs it on the nn runtime: this
// package keeps only the pre-processing (the rotated, resampled crop) and
// the post-processing (landmarks, regression and probability mapped back to
// the image). Every sum runs in a fixed order, so the output is
// bit-identical from run to run.
//
// A box may reach outside the image. Run fills the outside with black, as
// MTCNN's own crops do; RunPadded with PadEdge repeats the image's edge
// pixels instead, which keeps a face cut by the frame looking like the
// crops ONet was trained on (package detect uses it for MTCNN proposals).
//
// This MTCNN export was converted from the original Caffe weights, which work
// on transposed images (x and y swapped); Run takes care of that.
package onet
