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
// PReLU and softmax. Everything is plain Go arithmetic in a fixed order, so the
// output is bit-identical from run to run.
//
// This MTCNN export was converted from the original Caffe weights, which work
// on transposed images (x and y swapped); Run takes care of that.
package onet
