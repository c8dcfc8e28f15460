package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrFormat reports bytes that are not a well-formed TFLite flatbuffer (bad
// offsets, truncated data, missing required tables). Errors returned by Parse
// wrap it; test with errors.Is.
var ErrFormat = errors.New("tflite: malformed model")

// TensorType is the element type of a tensor (schema enum TensorType).
type TensorType int8

// Tensor types used by float CNNs. Other values are kept as-is.
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	Int8    TensorType = 9
)

func (t TensorType) String() string {
	switch t {
	case Float32:
		return "FLOAT32"
	case Float16:
		return "FLOAT16"
	case Int32:
		return "INT32"
	case Uint8:
		return "UINT8"
	case Int64:
		return "INT64"
	case Int8:
		return "INT8"
	}
	return fmt.Sprintf("TensorType(%d)", int8(t))
}

// Builtin is a TFLite builtin operator code (schema enum BuiltinOperator).
type Builtin int32

// Builtin operator codes of the TFLite schema that float CNNs commonly use.
const (
	OpAdd             Builtin = 0
	OpAveragePool2D   Builtin = 1
	OpConcatenation   Builtin = 2
	OpConv2D          Builtin = 3
	OpDepthwiseConv2D Builtin = 4
	OpFullyConnected  Builtin = 9
	OpL2Normalization Builtin = 11
	OpLogistic        Builtin = 14
	OpMaxPool2D       Builtin = 17
	OpMul             Builtin = 18
	OpRelu            Builtin = 19
	OpRelu6           Builtin = 21
	OpReshape         Builtin = 22
	OpSoftmax         Builtin = 25
	OpTanh            Builtin = 28
	OpPad             Builtin = 34
	OpTranspose       Builtin = 39
	OpMean            Builtin = 40
	OpSub             Builtin = 41
	OpDiv             Builtin = 42
	OpSqueeze         Builtin = 43
	OpExp             Builtin = 47
	OpPRelu           Builtin = 54
	OpMaximum         Builtin = 55
	OpNeg             Builtin = 59
	OpSum             Builtin = 74
	OpReduceMax       Builtin = 82
	OpAbs             Builtin = 101
)

var builtinNames = map[Builtin]string{
	OpAdd: "ADD", OpAveragePool2D: "AVERAGE_POOL_2D", OpConcatenation: "CONCATENATION",
	OpConv2D: "CONV_2D", OpDepthwiseConv2D: "DEPTHWISE_CONV_2D", OpFullyConnected: "FULLY_CONNECTED",
	OpL2Normalization: "L2_NORMALIZATION", OpLogistic: "LOGISTIC", OpMaxPool2D: "MAX_POOL_2D",
	OpMul: "MUL", OpRelu: "RELU", OpRelu6: "RELU6", OpReshape: "RESHAPE", OpSoftmax: "SOFTMAX",
	OpTanh: "TANH", OpPad: "PAD", OpTranspose: "TRANSPOSE", OpMean: "MEAN", OpSub: "SUB",
	OpDiv: "DIV", OpSqueeze: "SQUEEZE", OpPRelu: "PRELU", OpMaximum: "MAXIMUM", OpAbs: "ABS",
	OpExp: "EXP", OpNeg: "NEG", OpSum: "SUM", OpReduceMax: "REDUCE_MAX",
}

func (b Builtin) String() string {
	if s, ok := builtinNames[b]; ok {
		return s
	}
	return fmt.Sprintf("BUILTIN_%d", int32(b))
}

// Padding is the schema enum Padding.
type Padding int8

// Padding modes.
const (
	Same  Padding = 0
	Valid Padding = 1
)

// Activation is the schema enum ActivationFunctionType.
type Activation int8

// Fused activations.
const (
	ActNone  Activation = 0
	ActRelu  Activation = 1
	ActRelu1 Activation = 2
	ActRelu6 Activation = 3
	ActTanh  Activation = 4
)

// Options is the union of the builtin options this package decodes. Only the
// fields of the operator's own options table are meaningful; the rest keep
// their schema defaults.
type Options struct {
	Type uint8 // schema union tag of BuiltinOptions (0 = none)

	Padding          Padding
	StrideW, StrideH int
	DilationW        int
	DilationH        int
	DepthMultiplier  int
	FilterW, FilterH int // Pool2DOptions
	Activation       Activation
	Beta             float32 // SoftmaxOptions
	NewShape         []int   // ReshapeOptions
	KeepNumDims      bool    // FullyConnectedOptions
	WeightsFormat    int8    // FullyConnectedOptions
	Axis             int     // ConcatenationOptions
}

// Union tags of BuiltinOptions that Parse decodes.
const (
	OptConv2D          = 1
	OptDepthwiseConv2D = 2
	OptPool2D          = 5
	OptFullyConnected  = 8
	OptSoftmax         = 9
	OptConcatenation   = 10
	OptAdd             = 11
	OptL2Norm          = 12
	OptReshape         = 17
	OptMul             = 21
	OptSub             = 28
)

// Tensor describes one tensor of a subgraph.
type Tensor struct {
	Name   string
	Shape  []int
	Type   TensorType
	Buffer int // index into Model.Buffers; buffer 0 is the empty sentinel
}

// Operator is one node of a subgraph.
type Operator struct {
	Opcode  int // index into Model.OperatorCodes
	Builtin Builtin
	Custom  string
	Inputs  []int // tensor indices; -1 marks an omitted optional input
	Outputs []int
	Options Options
}

// OperatorCode is an entry of the model's operator code table.
type OperatorCode struct {
	Builtin Builtin
	Custom  string
	Version int
}

// Subgraph is a computation graph: tensors, operators in execution order, and
// the indices of its input and output tensors.
type Subgraph struct {
	Name      string
	Tensors   []Tensor
	Inputs    []int
	Outputs   []int
	Operators []Operator
}

// Model is a parsed TFLite model. Buffer data aliases the bytes given to Parse.
type Model struct {
	Version       uint32
	Description   string
	OperatorCodes []OperatorCode
	Subgraphs     []Subgraph
	Buffers       [][]byte
}

// Parse decodes a TFLite flatbuffer. It validates every offset it follows and
// cross-checks indices (operator codes, tensors, buffers), so corrupt or
// truncated bytes return an error wrapping ErrFormat and never panic. The
// returned buffers alias data.
func Parse(data []byte) (m *Model, err error) {
	defer func() {
		if r := recover(); r != nil { // defence in depth; the reader checks bounds
			m, err = nil, fmt.Errorf("%w: %v", ErrFormat, r)
		}
	}()
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrFormat, len(data))
	}
	if string(data[4:8]) != "TFL3" {
		return nil, fmt.Errorf("%w: missing TFL3 file identifier", ErrFormat)
	}
	f := &fb{b: data}
	root, err := f.deref(0)
	if err != nil {
		return nil, err
	}
	mt, err := f.tableAt(root, "model")
	if err != nil {
		return nil, err
	}
	m = &Model{}
	if m.Version, err = f.fieldU32(mt, 0, 0); err != nil {
		return nil, err
	}
	if m.Description, err = f.stringField(mt, 3, "model.description"); err != nil {
		return nil, err
	}
	if m.OperatorCodes, err = parseOperatorCodes(f, mt); err != nil {
		return nil, err
	}
	if m.Buffers, err = parseBuffers(f, mt, data); err != nil {
		return nil, err
	}
	// subgraphs
	n, err := f.tables(mt, 2, "subgraphs", func(k int, t table) error {
		sg, err := parseSubgraph(f, t, m)
		if err != nil {
			return fmt.Errorf("subgraph %d: %w", k, err)
		}
		m.Subgraphs = append(m.Subgraphs, sg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no subgraphs", ErrFormat)
	}
	return m, nil
}

// parseOperatorCodes reads the model's operator_codes vector.
func parseOperatorCodes(f *fb, mt table) ([]OperatorCode, error) {
	var codes []OperatorCode
	_, err := f.tables(mt, 1, "operator_codes", func(k int, t table) error {
		dep, err := f.fieldU8(t, 0, 0)
		if err != nil {
			return err
		}
		custom, err := f.stringField(t, 1, "operator_code.custom_code")
		if err != nil {
			return err
		}
		ver, err := f.fieldI32(t, 2, 1)
		if err != nil {
			return err
		}
		bc, err := f.fieldI32(t, 3, 0)
		if err != nil {
			return err
		}
		// Schema rule: the effective code is the larger of the two fields
		// (deprecated_builtin_code saturates at 127 for newer operators).
		code := Builtin(int8(dep))
		if Builtin(bc) > code {
			code = Builtin(bc)
		}
		codes = append(codes, OperatorCode{Builtin: code, Custom: custom, Version: int(ver)})
		return nil
	})
	return codes, err
}

// parseBuffers reads the model's buffers vector; a buffer stored outside
// the flatbuffer (offset/size) is sliced from data.
func parseBuffers(f *fb, mt table, data []byte) ([][]byte, error) {
	var buffers [][]byte
	_, err := f.tables(mt, 4, "buffers", func(k int, t table) error {
		d, err := f.bytesField(t, 0, "buffer.data")
		if err != nil {
			return err
		}
		if d == nil {
			// Large models may store data outside the flatbuffer (offset/size).
			off, err := f.fieldU64(t, 1, 0)
			if err != nil {
				return err
			}
			size, err := f.fieldU64(t, 2, 0)
			if err != nil {
				return err
			}
			if off > 1 || size > 0 {
				if off > uint64(len(data)) || size > uint64(len(data))-off {
					return fmt.Errorf("%w: buffer %d: external data [%d,+%d) outside %d bytes", ErrFormat, k, off, size, len(data))
				}
				d = data[off : off+size : off+size]
			}
		}
		buffers = append(buffers, d)
		return nil
	})
	return buffers, err
}

func parseSubgraph(f *fb, t table, m *Model) (Subgraph, error) {
	var sg Subgraph
	var err error
	if sg.Name, err = f.stringField(t, 4, "subgraph.name"); err != nil {
		return sg, err
	}
	_, err = f.tables(t, 0, "tensors", func(k int, tt table) error {
		var ten Tensor
		shape, err := f.int32s(tt, 0, "tensor.shape")
		if err != nil {
			return err
		}
		for _, d := range shape {
			if d < -1 {
				return fmt.Errorf("%w: tensor %d: negative dimension %d", ErrFormat, k, d)
			}
			ten.Shape = append(ten.Shape, int(d))
		}
		ty, err := f.fieldU8(tt, 1, 0)
		if err != nil {
			return err
		}
		ten.Type = TensorType(int8(ty))
		buf, err := f.fieldU32(tt, 2, 0)
		if err != nil {
			return err
		}
		if int64(buf) >= int64(len(m.Buffers)) && !(buf == 0 && len(m.Buffers) == 0) {
			return fmt.Errorf("%w: tensor %d: buffer index %d of %d", ErrFormat, k, buf, len(m.Buffers))
		}
		ten.Buffer = int(buf)
		if ten.Name, err = f.stringField(tt, 3, "tensor.name"); err != nil {
			return err
		}
		sg.Tensors = append(sg.Tensors, ten)
		return nil
	})
	if err != nil {
		return sg, err
	}
	checkIdx := func(v []int32, what string, allowOmitted bool) ([]int, error) {
		out := make([]int, len(v))
		for i, x := range v {
			if (x == -1 && allowOmitted) || (x >= 0 && int(x) < len(sg.Tensors)) {
				out[i] = int(x)
				continue
			}
			return nil, fmt.Errorf("%w: %s: tensor index %d of %d", ErrFormat, what, x, len(sg.Tensors))
		}
		return out, nil
	}
	in, err := f.int32s(t, 1, "subgraph.inputs")
	if err != nil {
		return sg, err
	}
	if sg.Inputs, err = checkIdx(in, "subgraph.inputs", false); err != nil {
		return sg, err
	}
	out, err := f.int32s(t, 2, "subgraph.outputs")
	if err != nil {
		return sg, err
	}
	if sg.Outputs, err = checkIdx(out, "subgraph.outputs", false); err != nil {
		return sg, err
	}
	_, err = f.tables(t, 3, "operators", func(k int, ot table) error {
		var op Operator
		oc, err := f.fieldU32(ot, 0, 0)
		if err != nil {
			return err
		}
		if int64(oc) >= int64(len(m.OperatorCodes)) {
			return fmt.Errorf("%w: operator %d: opcode index %d of %d", ErrFormat, k, oc, len(m.OperatorCodes))
		}
		op.Opcode = int(oc)
		op.Builtin = m.OperatorCodes[oc].Builtin
		op.Custom = m.OperatorCodes[oc].Custom
		ins, err := f.int32s(ot, 1, "operator.inputs")
		if err != nil {
			return err
		}
		if op.Inputs, err = checkIdx(ins, fmt.Sprintf("operator %d inputs", k), true); err != nil {
			return err
		}
		outs, err := f.int32s(ot, 2, "operator.outputs")
		if err != nil {
			return err
		}
		if op.Outputs, err = checkIdx(outs, fmt.Sprintf("operator %d outputs", k), false); err != nil {
			return err
		}
		if op.Options, err = parseOptions(f, ot); err != nil {
			return fmt.Errorf("operator %d (%v): %w", k, op.Builtin, err)
		}
		sg.Operators = append(sg.Operators, op)
		return nil
	})
	return sg, err
}

func parseOptions(f *fb, ot table) (Options, error) {
	o := Options{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1, DepthMultiplier: 1, Beta: 0}
	tag, err := f.fieldU8(ot, 3, 0)
	if err != nil || tag == 0 {
		return o, err
	}
	o.Type = tag
	t, ok, err := f.fieldTable(ot, 4, "builtin_options")
	if err != nil || !ok {
		return o, err
	}
	i8 := func(i int, def int8) int8 {
		if err != nil {
			return def
		}
		var v uint8
		v, err = f.fieldU8(t, i, uint8(def))
		return int8(v)
	}
	i32 := func(i int, def int32) int {
		if err != nil {
			return int(def)
		}
		var v int32
		v, err = f.fieldI32(t, i, def)
		return int(v)
	}
	switch tag {
	case OptConv2D:
		o.Padding = Padding(i8(0, 0))
		o.StrideW, o.StrideH = i32(1, 0), i32(2, 0)
		o.Activation = Activation(i8(3, 0))
		o.DilationW, o.DilationH = i32(4, 1), i32(5, 1)
	case OptDepthwiseConv2D:
		o.Padding = Padding(i8(0, 0))
		o.StrideW, o.StrideH = i32(1, 0), i32(2, 0)
		o.DepthMultiplier = i32(3, 0)
		o.Activation = Activation(i8(4, 0))
		o.DilationW, o.DilationH = i32(5, 1), i32(6, 1)
	case OptPool2D:
		o.Padding = Padding(i8(0, 0))
		o.StrideW, o.StrideH = i32(1, 0), i32(2, 0)
		o.FilterW, o.FilterH = i32(3, 0), i32(4, 0)
		o.Activation = Activation(i8(5, 0))
	case OptFullyConnected:
		o.Activation = Activation(i8(0, 0))
		o.WeightsFormat = i8(1, 0)
		o.KeepNumDims = i8(2, 0) != 0
	case OptSoftmax:
		if err == nil {
			o.Beta, err = f.fieldF32(t, 0, 0)
		}
	case OptConcatenation:
		o.Axis = i32(0, 0)
		o.Activation = Activation(i8(1, 0))
	case OptAdd, OptMul, OptSub, OptL2Norm:
		o.Activation = Activation(i8(0, 0))
	case OptReshape:
		var ns []int32
		ns, err = f.int32s(t, 0, "reshape.new_shape")
		for _, d := range ns {
			o.NewShape = append(o.NewShape, int(d))
		}
	}
	return o, err
}

// Float32s decodes a little-endian float32 buffer. It fails when the byte
// length is not a multiple of 4 or does not match want elements (want < 0
// skips the count check).
func Float32s(b []byte, want int) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%w: float32 buffer of %d bytes", ErrFormat, len(b))
	}
	if want >= 0 && len(b)/4 != want {
		return nil, fmt.Errorf("%w: float32 buffer holds %d values, want %d", ErrFormat, len(b)/4, want)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// Int32s decodes a little-endian int32 buffer.
func Int32s(b []byte) ([]int32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%w: int32 buffer of %d bytes", ErrFormat, len(b))
	}
	out := make([]int32, len(b)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// Elements returns the number of elements of a fully known shape, or -1 when a
// dimension is unknown or the product overflows.
func Elements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt32/d {
			return -1
		}
		n *= d
	}
	return n
}
