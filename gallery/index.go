package gallery

import (
	"math"
	"sync"

	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/internal/gemm"
)

// blockSize is the number of templates per packed block: 64 panels of
// gemm.NR columns, 768 KB. Blocks let the index grow without copying and
// bound the score buffer of one search.
const blockSize = 1024

// index holds templates in memory as gemm-packed blocks, so one search is
// one matrix-vector product per block through the project's GEMM kernels
// (AVX2+FMA, NEON or portable Go), then a top-k selection. Slots are dense:
// removing a template moves the last one into its slot. index is not safe
// for concurrent use; its owner locks.
type index struct {
	ids    []string       // slot → id
	slots  map[string]int // id → slot
	blocks [][]float32    // each holds blockSize templates as gemm.PackB(·, blockSize, embed.Dim)
}

func newIndex() *index { return &index{slots: map[string]int{}} }

func (x *index) len() int { return len(x.ids) }

// at returns the position of slot's first value in its block; the values
// follow at stride gemm.NR (PackB's panel layout: panel p holds, for each of
// the k rows, gemm.NR consecutive columns).
func at(slot int) (block, off int) {
	j := slot % blockSize
	return slot / blockSize, (j/gemm.NR)*embed.Dim*gemm.NR + j%gemm.NR
}

func (x *index) set(slot int, v []float32) {
	b, off := at(slot)
	blk := x.blocks[b]
	for kk, f := range v {
		blk[off+kk*gemm.NR] = f
	}
}

// vector returns a copy of the template in slot.
func (x *index) vector(slot int) []float32 {
	b, off := at(slot)
	blk := x.blocks[b]
	v := make([]float32, embed.Dim)
	for kk := range v {
		v[kk] = blk[off+kk*gemm.NR]
	}
	return v
}

func (x *index) add(id string, v []float32) {
	slot := len(x.ids)
	if slot%blockSize == 0 {
		x.blocks = append(x.blocks, make([]float32, gemm.PadLen(blockSize)*embed.Dim))
	}
	x.ids = append(x.ids, id)
	x.slots[id] = slot
	x.set(slot, v)
}

func (x *index) remove(id string) bool {
	s, ok := x.slots[id]
	if !ok {
		return false
	}
	last := len(x.ids) - 1
	if s != last {
		x.set(s, x.vector(last))
		x.ids[s] = x.ids[last]
		x.slots[x.ids[s]] = s
	}
	x.set(last, make([]float32, embed.Dim)) // no copy of the removed face stays in memory
	x.ids = x.ids[:last]
	delete(x.slots, id)
	if last%blockSize == 0 {
		x.blocks[len(x.blocks)-1] = nil
		x.blocks = x.blocks[:len(x.blocks)-1]
	}
	return true
}

// searchBuf is the per-search scratch space, pooled.
type searchBuf struct {
	scores  []float32
	zero    []float32 // the (zero) bias gemm.Mul wants
	scratch gemm.Scratch
	heap    []scored
}

var searchBufs = sync.Pool{New: func() any {
	return &searchBuf{scores: make([]float32, blockSize), zero: make([]float32, gemm.PadLen(blockSize))}
}}

type scored struct {
	score float32
	slot  int
}

// search returns the slots of the (at most) k templates with the highest
// dot product with q that is at least minCos, in no particular order.
func (x *index) search(q []float32, k int, minCos float64) []int {
	buf := searchBufs.Get().(*searchBuf)
	defer searchBufs.Put(buf)
	h := buf.heap[:0]
	// floor is the score a template must beat to enter the heap: minCos
	// until the heap is full, then the heap's minimum. The kernels' sums
	// may differ from compare.Cosine in the last bits, so minCos is lowered
	// by a margin far above float32 rounding; Rank applies the exact test.
	floor := float32(math.Inf(-1))
	if !math.IsInf(minCos, -1) {
		floor = float32(minCos - 1e-4)
	}
	n := len(x.ids)
	for b, blk := range x.blocks {
		m := min(blockSize, n-b*blockSize)
		if m <= 0 {
			break
		}
		scores := buf.scores[:m]
		gemm.Mul(1, m, embed.Dim, q, embed.Dim, blk, scores, m, buf.zero, nil, &buf.scratch)
		base := b * blockSize
		for j, s := range scores {
			if s < floor || (s == floor && len(h) == k) {
				continue
			}
			if len(h) < k {
				h = append(h, scored{s, base + j})
				siftUp(h, len(h)-1)
				if len(h) == k {
					floor = max(floor, h[0].score)
				}
				continue
			}
			h[0] = scored{s, base + j}
			siftDown(h, 0)
			floor = max(floor, h[0].score)
		}
	}
	buf.heap = h
	out := make([]int, len(h))
	for i, e := range h {
		out[i] = e.slot
	}
	return out
}

// siftUp and siftDown maintain a min-heap on score.
func siftUp(h []scored, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].score <= h[i].score {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []scored, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && h[r].score < h[l].score {
			c = r
		}
		if h[i].score <= h[c].score {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
