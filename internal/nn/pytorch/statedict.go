package pytorch

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"path"
	"sort"

	"github.com/nlpodyssey/gopickle/pickle"
	gp "github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// ErrFormat is wrapped by every error about a file that is not a state dict
// this package can read.
var ErrFormat = errors.New("pytorch: unsupported or malformed state dict")

// Tensor is one parameter or buffer: its shape (outermost first) and its
// values in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Len is the number of elements of a tensor of t's shape.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// StateDict maps parameter names (as PyTorch prints them, e.g.
// "conv1.conv.weight") to tensors.
type StateDict map[string]Tensor

// Keys returns the names in sorted order.
func (s StateDict) Keys() []string {
	k := make([]string, 0, len(s))
	for n := range s {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// Decode decodes a whole .pth file held in memory (e.g. bytes embedded in
// the binary). It accepts both formats torch.save has written: the zip
// archive of PyTorch 1.6 and later, and the legacy stream (a magic-number
// pickle, a protocol version, system information, the object pickle, the
// list of storage keys, then each storage as a little-endian element count
// and its raw bytes). Non-float32 entries (e.g. BatchNorm's
// num_batches_tracked counters) are skipped, since no network weight is
// stored that way.
func Decode(b []byte) (sd StateDict, err error) {
	// gopickle is not hardened against hostile input: turn any panic on a
	// malformed file into ErrFormat.
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("%w: %v", ErrFormat, r)
		}
	}()
	var obj any
	if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		obj, err = decodeZip(b)
	} else {
		obj, err = decodeLegacy(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return toStateDict(obj)
}

// findClass resolves the few classes a state dict's pickle names.
func findClass(fallback func(module, name string) (any, error)) func(module, name string) (any, error) {
	return func(module, name string) (any, error) {
		switch module + "." + name {
		case "torch._utils._rebuild_tensor_v2":
			return &gp.RebuildTensorV2{}, nil
		case "torch.FloatStorage":
			return &gp.FloatStorageClass{}, nil
		case "torch.LongStorage":
			return &gp.LongStorageClass{}, nil
		case "torch.IntStorage":
			return &gp.IntStorageClass{}, nil
		case "torch.DoubleStorage":
			return &gp.DoubleStorageClass{}, nil
		case "torch.HalfStorage":
			return &gp.HalfStorageClass{}, nil
		}
		if fallback != nil {
			return fallback(module, name)
		}
		return nil, fmt.Errorf("class %s.%s not supported", module, name)
	}
}

// storageID unpacks a persistent id ("storage", class, key, location, size, ...).
func storageID(id any) (class gp.StorageClassInterface, key, loc string, n int, err error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, "", "", 0, fmt.Errorf("persistent id %#v", id)
	}
	kind, _ := t.Get(0).(string)
	class, cok := t.Get(1).(gp.StorageClassInterface)
	key, kok := t.Get(2).(string)
	loc, lok := t.Get(3).(string)
	n, nok := t.Get(4).(int)
	if kind != "storage" || !cok || !kok || !lok || !nok || n < 0 {
		return nil, "", "", 0, fmt.Errorf("persistent id %#v", id)
	}
	if t.Len() > 5 && t.Get(5) != nil {
		return nil, "", "", 0, fmt.Errorf("storage %q: views are not supported", key)
	}
	return class, key, loc, n, nil
}

func elemSize(s gp.StorageInterface) int {
	switch s.(type) {
	case *gp.LongStorage, *gp.DoubleStorage:
		return 8
	case *gp.HalfStorage:
		return 2
	}
	return 4
}

func decodeZip(b []byte) (any, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	records := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		records[path.Base(f.Name)] = f
	}
	if _, ok := records["constants.pkl"]; ok {
		return nil, errors.New("TorchScript archive")
	}
	data, ok := records["data.pkl"]
	if !ok {
		return nil, errors.New("no data.pkl")
	}
	df, err := data.Open()
	if err != nil {
		return nil, err
	}
	defer df.Close()
	storages := map[string]gp.StorageInterface{}
	u := pickle.NewUnpickler(bufio.NewReader(df))
	u.FindClass = findClass(u.FindClass)
	u.PersistentLoad = func(id any) (any, error) {
		class, key, loc, n, err := storageID(id)
		if err != nil {
			return nil, err
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		f, ok := records[key]
		if !ok {
			return nil, fmt.Errorf("storage %q missing", key)
		}
		s := class.New(n, loc)
		if f.UncompressedSize64 != uint64(n*elemSize(s)) {
			return nil, fmt.Errorf("storage %q: %d bytes for %d elements", key, f.UncompressedSize64, n)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		if err := s.SetFromFileWithSize(rc, n); err != nil {
			return nil, fmt.Errorf("storage %q: %v", key, err)
		}
		storages[key] = s
		return s, nil
	}
	return u.Load()
}

const legacyMagic = "1950a86a20f9469cfc6c"

func decodeLegacy(b []byte) (any, error) {
	r := bytes.NewReader(b)
	load := func() (any, error) {
		u := pickle.NewUnpickler(r)
		return u.Load()
	}
	magic, err := load()
	if m, ok := magic.(*big.Int); err != nil || !ok || m.Text(16) != legacyMagic {
		return nil, errors.New("neither a zip archive nor a legacy torch.save stream")
	}
	if v, err := load(); err != nil || v != 1001 {
		return nil, fmt.Errorf("legacy protocol version %v", v)
	}
	if _, err := load(); err != nil { // system information
		return nil, err
	}
	storages := map[string]gp.StorageInterface{}
	sizes := map[string]int{}
	u := pickle.NewUnpickler(r)
	u.FindClass = findClass(u.FindClass)
	u.PersistentLoad = func(id any) (any, error) {
		class, key, loc, n, err := storageID(id)
		if err != nil {
			return nil, err
		}
		if s, ok := storages[key]; ok {
			return s, nil
		}
		s := class.New(n, loc)
		storages[key], sizes[key] = s, n
		return s, nil
	}
	obj, err := u.Load()
	if err != nil {
		return nil, err
	}
	keysObj, err := load()
	if err != nil {
		return nil, err
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("storage key list is %T", keysObj)
	}
	for _, k := range *keys {
		key, _ := k.(string)
		s, ok := storages[key]
		if !ok {
			return nil, fmt.Errorf("storage %#v not referenced", k)
		}
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("storage %q: %v", key, err)
		}
		n := binary.LittleEndian.Uint64(hdr[:])
		if n != uint64(sizes[key]) || n*uint64(elemSize(s)) > uint64(r.Len()) {
			return nil, fmt.Errorf("storage %q: %d elements, %d expected, %d bytes left", key, n, sizes[key], r.Len())
		}
		if err := s.SetFromFileWithSize(r, int(n)); err != nil {
			return nil, fmt.Errorf("storage %q: %v", key, err)
		}
	}
	for key, s := range storages {
		if fs, ok := s.(*gp.FloatStorage); ok && fs.Data == nil && sizes[key] > 0 {
			return nil, fmt.Errorf("storage %q has no data", key)
		}
	}
	return obj, nil
}

func toStateDict(obj any) (StateDict, error) {
	out := StateDict{}
	add := func(k any, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("%w: key %#v is not a string", ErrFormat, k)
		}
		t, ok := v.(*gp.Tensor)
		if !ok {
			return fmt.Errorf("%w: %q is not a tensor", ErrFormat, name)
		}
		fs, ok := t.Source.(*gp.FloatStorage)
		if !ok {
			return nil // counters and other non-float buffers
		}
		data, err := contiguous(fs.Data, t)
		if err != nil {
			return fmt.Errorf("%w: %q: %v", ErrFormat, name, err)
		}
		out[name] = Tensor{Shape: append([]int(nil), t.Size...), Data: data}
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for k, e := range d.Map {
			if err := add(k, e.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%w: top-level object is %T, not a dict", ErrFormat, obj)
	}
	return out, nil
}

// contiguous copies t's elements out of its storage in row-major order,
// honouring its offset and strides.
func contiguous(src []float32, t *gp.Tensor) ([]float32, error) {
	if len(t.Size) != len(t.Stride) {
		return nil, fmt.Errorf("%d sizes, %d strides", len(t.Size), len(t.Stride))
	}
	n := 1
	for _, d := range t.Size {
		if d < 0 {
			return nil, fmt.Errorf("size %v", t.Size)
		}
		n *= d
	}
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	// Highest storage index touched must be inside the storage.
	last := t.StorageOffset
	for i, d := range t.Size {
		if t.Stride[i] < 0 {
			return nil, fmt.Errorf("negative stride %v", t.Stride)
		}
		last += (d - 1) * t.Stride[i]
	}
	if t.StorageOffset < 0 || last >= len(src) {
		return nil, fmt.Errorf("view [%d, %d] outside storage of %d", t.StorageOffset, last, len(src))
	}
	idx := make([]int, len(t.Size))
	for i := range out {
		off := t.StorageOffset
		for d := range idx {
			off += idx[d] * t.Stride[d]
		}
		out[i] = src[off]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.Size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}
