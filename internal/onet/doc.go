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
// weights) and is run here by a small float32 interpreter for the operators it
// uses: CONV_2D, MAX_POOL_2D, FULLY_CONNECTED, the elementwise RELU, NEG, ADD,
// SUB, MUL, DIV, EXP and the last-axis reductions SUM and REDUCE_MAX that spell
// PReLU and softmax.
//
// Convolutions run as matrix products through internal/gemm (AVX2+FMA on
// amd64, NEON on arm64, portable Go elsewhere): im2col lays out the input
// under the filter at every output pixel as one row, and the filters are
// packed once by New. Fully connected layers are one-row products. The
// export spells each PReLU as relu(x) + alpha·(−relu(−x)) over six
// element-wise operators; New folds that into the preceding layer's
// epilogue, max(x,0) + alpha·min(x,0), which is the same function bit for
// bit. A forward pass takes about 0.9 ms on one core of the AMD EPYC
// development machine (the scalar loops it replaced took 15-27 ms) and
// allocates nothing once the workspace pool is warm. Every sum runs in a
// fixed order, so the output is bit-identical from run to run.
//
// This MTCNN export was converted from the original Caffe weights, which work
// on transposed images (x and y swapped); Run takes care of that.
package onet
