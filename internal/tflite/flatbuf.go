package tflite

import (
	"encoding/binary"
	"fmt"
	"math"
)

// fb is a bounds-checked view of a flatbuffer. Every accessor validates the
// offsets it follows against the byte slice, so malformed input yields an error
// and never an out-of-range panic.
type fb struct {
	b []byte
}

// table is a decoded table position plus its vtable.
type table struct {
	pos    int    // absolute offset of the table
	vt     int    // absolute offset of the vtable
	vtLen  int    // size of the vtable in bytes
	tblLen int    // size of the table inline data in bytes
	what   string // for error messages
}

func (f *fb) u8(off int) (uint8, error) {
	if off < 0 || off+1 > len(f.b) {
		return 0, fmt.Errorf("%w: byte at %d out of range", ErrFormat, off)
	}
	return f.b[off], nil
}

func (f *fb) u16(off int) (uint16, error) {
	if off < 0 || off+2 > len(f.b) || off+2 < off {
		return 0, fmt.Errorf("%w: u16 at %d out of range", ErrFormat, off)
	}
	return binary.LittleEndian.Uint16(f.b[off:]), nil
}

func (f *fb) u32(off int) (uint32, error) {
	if off < 0 || off+4 > len(f.b) || off+4 < off {
		return 0, fmt.Errorf("%w: u32 at %d out of range", ErrFormat, off)
	}
	return binary.LittleEndian.Uint32(f.b[off:]), nil
}

func (f *fb) u64(off int) (uint64, error) {
	if off < 0 || off+8 > len(f.b) || off+8 < off {
		return 0, fmt.Errorf("%w: u64 at %d out of range", ErrFormat, off)
	}
	return binary.LittleEndian.Uint64(f.b[off:]), nil
}

// deref follows a uoffset stored at off and returns the absolute target.
func (f *fb) deref(off int) (int, error) {
	v, err := f.u32(off)
	if err != nil {
		return 0, err
	}
	t := int64(off) + int64(v)
	if t >= int64(len(f.b)) {
		return 0, fmt.Errorf("%w: offset %d → %d outside %d bytes", ErrFormat, off, t, len(f.b))
	}
	return int(t), nil
}

// tableAt decodes the table whose start is at absolute position pos.
func (f *fb) tableAt(pos int, what string) (table, error) {
	so, err := f.u32(pos)
	if err != nil {
		return table{}, fmt.Errorf("%s: %w", what, err)
	}
	vt := int64(pos) - int64(int32(so))
	if vt < 0 || vt+4 > int64(len(f.b)) {
		return table{}, fmt.Errorf("%w: %s: vtable at %d out of range", ErrFormat, what, vt)
	}
	vtLen, _ := f.u16(int(vt))
	tblLen, _ := f.u16(int(vt) + 2)
	if vtLen < 4 || vtLen%2 != 0 || vt+int64(vtLen) > int64(len(f.b)) {
		return table{}, fmt.Errorf("%w: %s: bad vtable size %d", ErrFormat, what, vtLen)
	}
	if tblLen < 4 || int64(pos)+int64(tblLen) > int64(len(f.b)) {
		return table{}, fmt.Errorf("%w: %s: bad table size %d", ErrFormat, what, tblLen)
	}
	return table{pos: pos, vt: int(vt), vtLen: int(vtLen), tblLen: int(tblLen), what: what}, nil
}

// field returns the absolute position of field i of t, or 0 when absent.
func (f *fb) field(t table, i int) (int, error) {
	slot := 4 + 2*i
	if slot+2 > t.vtLen {
		return 0, nil
	}
	o, _ := f.u16(t.vt + slot)
	if o == 0 {
		return 0, nil
	}
	if int(o) >= t.tblLen {
		return 0, fmt.Errorf("%w: %s: field %d offset %d beyond table size %d", ErrFormat, t.what, i, o, t.tblLen)
	}
	return t.pos + int(o), nil
}

func (f *fb) fieldU8(t table, i int, def uint8) (uint8, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return def, err
	}
	return f.u8(p)
}

func (f *fb) fieldI32(t table, i int, def int32) (int32, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return def, err
	}
	v, err := f.u32(p)
	return int32(v), err
}

func (f *fb) fieldU32(t table, i int, def uint32) (uint32, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return def, err
	}
	return f.u32(p)
}

func (f *fb) fieldU64(t table, i int, def uint64) (uint64, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return def, err
	}
	return f.u64(p)
}

func (f *fb) fieldF32(t table, i int, def float32) (float32, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return def, err
	}
	v, err := f.u32(p)
	return math.Float32frombits(v), err
}

// fieldTable follows an offset field to a sub-table. ok is false when absent.
func (f *fb) fieldTable(t table, i int, what string) (table, bool, error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return table{}, false, err
	}
	q, err := f.deref(p)
	if err != nil {
		return table{}, false, fmt.Errorf("%s: %w", what, err)
	}
	st, err := f.tableAt(q, what)
	return st, err == nil, err
}

// vector returns the absolute start of the elements and the element count of
// the vector referenced by field i. elem is the element size used for the
// bounds check. Absent vectors have n == 0.
func (f *fb) vector(t table, i, elem int, what string) (start, n int, err error) {
	p, err := f.field(t, i)
	if err != nil || p == 0 {
		return 0, 0, err
	}
	q, err := f.deref(p)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	l, err := f.u32(q)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", what, err)
	}
	start = q + 4
	if int64(l)*int64(elem) > int64(len(f.b)-start) {
		return 0, 0, fmt.Errorf("%w: %s: vector of %d×%d bytes overruns the buffer", ErrFormat, what, l, elem)
	}
	return start, int(l), nil
}

// int32s decodes a vector of int32 (or uint32) values.
func (f *fb) int32s(t table, i int, what string) ([]int32, error) {
	start, n, err := f.vector(t, i, 4, what)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for k := range out {
		out[k] = int32(binary.LittleEndian.Uint32(f.b[start+4*k:]))
	}
	return out, nil
}

// bytesField returns the sub-slice of a [ubyte] vector (shares memory).
func (f *fb) bytesField(t table, i int, what string) ([]byte, error) {
	start, n, err := f.vector(t, i, 1, what)
	if err != nil || n == 0 {
		return nil, err
	}
	return f.b[start : start+n : start+n], nil
}

func (f *fb) stringField(t table, i int, what string) (string, error) {
	b, err := f.bytesField(t, i, what)
	return string(b), err
}

// tables decodes a vector of tables, calling fn for each element.
func (f *fb) tables(t table, i int, what string, fn func(k int, e table) error) (int, error) {
	start, n, err := f.vector(t, i, 4, what)
	if err != nil {
		return 0, err
	}
	for k := 0; k < n; k++ {
		q, err := f.deref(start + 4*k)
		if err != nil {
			return 0, fmt.Errorf("%s[%d]: %w", what, k, err)
		}
		e, err := f.tableAt(q, fmt.Sprintf("%s[%d]", what, k))
		if err != nil {
			return 0, err
		}
		if err := fn(k, e); err != nil {
			return 0, err
		}
	}
	return n, nil
}
