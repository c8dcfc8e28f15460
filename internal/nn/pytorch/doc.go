// Package pytorch reads PyTorch state dicts — the files torch.save writes
// for model.state_dict(): a zip archive holding a pickle (data.pkl) that
// names raw little-endian storages stored beside it — into named float32
// tensors that a loader turns into an nn.Graph.
//
// The pickle is decoded by github.com/nlpodyssey/gopickle; this package adds
// what gopickle's own pytorch.Load lacks for bundled weights: reading from
// memory (an io.ReaderAt, e.g. bytes embedded with go:embed) rather than a
// file name, and turning the tensors into contiguous, row-major []float32
// with their shapes. Only float32 tensors are accepted; the legacy
// (pre-1.6, non-zip) format and TorchScript archives are not.
package pytorch
