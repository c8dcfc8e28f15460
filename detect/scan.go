package detect

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"sync"

	pigo "github.com/esimov/pigo/core"
)

// faceCascade is pico's face classification cascade (pigo's "facefinder"):
// an 8-byte preamble, the tree depth and the tree count (uint32, little
// endian), then per tree its 2^depth-1 internal nodes as four int8 (row1,
// col1, row2, col2 of two pixels, in 1/256 of the window size, relative to
// the window centre), its 2^depth leaf scores and a rejection threshold
// (float32). A window's score is the running sum of the leaves it reaches;
// it is rejected as soon as the sum falls to a tree's threshold.
//
// scan gives exactly the detections of pigo's RunCascade (angle 0) — the same
// windows, the same float32 sums in the same order — in about half the time
// (BenchmarkDetect/scan): each size's pixel offsets are computed once instead
// of per window and node, and the windows of a size walk each tree together
// (see scan).
type faceCascade struct {
	depth, trees int
	codes        []int8    // per tree 4·2^depth: node 0 unused, nodes 1…2^depth-1
	preds        []float32 // per tree 2^depth leaves
	thresholds   []float32 // per tree
	scratch      sync.Pool // *scanScratch
}

func parseFaceCascade(b []byte) (*faceCascade, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%w: facefinder: %d bytes, too short", ErrInternal, len(b))
	}
	le := binary.LittleEndian
	depth, trees := le.Uint32(b[8:]), le.Uint32(b[12:])
	if depth != treeDepth || trees == 0 || trees > 4096 {
		return nil, fmt.Errorf("%w: facefinder: depth %d, %d trees", ErrInternal, depth, trees)
	}
	nodes := 1 << depth
	per := 4*(nodes-1) + 4*nodes + 4
	if len(b) != 16+int(trees)*per {
		return nil, fmt.Errorf("%w: facefinder: %d bytes, want %d", ErrInternal, len(b), 16+int(trees)*per)
	}
	fc := &faceCascade{
		depth: int(depth), trees: int(trees),
		codes:      make([]int8, int(trees)*4*nodes),
		preds:      make([]float32, 0, int(trees)*nodes),
		thresholds: make([]float32, 0, trees),
	}
	p := b[16:]
	for t := range int(trees) {
		for i, c := range p[:4*(nodes-1)] {
			fc.codes[t*4*nodes+4+i] = int8(c)
		}
		p = p[4*(nodes-1):]
		for i := range nodes {
			fc.preds = append(fc.preds, math.Float32frombits(le.Uint32(p[4*i:])))
		}
		p = p[4*nodes:]
		fc.thresholds = append(fc.thresholds, math.Float32frombits(le.Uint32(p)))
		p = p[4:]
	}
	return fc, nil
}

// scan runs the cascade over every window of g from minSize to maxSize
// pixels, stepping by shift times the window size and growing the size by
// the factor scale (at least 2 pixels), and returns the windows scoring above
// zero, in pigo's order (scale, row, column).
//
// The windows of one size go through the cascade together, tree by tree,
// dropping out as they are rejected: a tree's six pixel comparisons form a
// chain of dependent loads, and interleaving the chains of many windows
// lets the processor overlap them. Each window still sums its trees in
// order, so the scores are pigo's to the bit.
func (fc *faceCascade) scan(ctx context.Context, g *grayImage, minSize, maxSize int, shift, scale float64) []pigo.Detection {
	return fc.scanBorder(ctx, g, minSize, maxSize, shift, scale, image.Rectangle{})
}

// scanBorder is scan restricted, when inner is not empty, to the windows
// centred in inner that are not wholly inside it: the windows crossing the
// border of an image that lies at inner within the padded raster g (see
// padded). The windows wholly inside were already seen by the scan of the
// image itself.
func (fc *faceCascade) scanBorder(ctx context.Context, g *grayImage, minSize, maxSize int, shift, scale float64, inner image.Rectangle) []pigo.Detection {
	nodes := 1 << fc.depth
	sc, _ := fc.scratch.Get().(*scanScratch)
	if sc == nil {
		sc = &scanScratch{offs: make([]int32, 2*nodes*fc.trees)}
	}
	defer fc.scratch.Put(sc)
	var dets []pigo.Detection
	pix, dim := g.Pix, g.W
	for size := minSize; size <= maxSize; {
		if ctx.Err() != nil {
			// One size takes milliseconds on a 1024-pixel raster; the
			// caller returns ctx.Err().
			return nil
		}
		step := int(math.Max(shift*float64(size), 1))
		half := size/2 + 1 // pigo's margin: every node pixel lies inside g
		ready := 0         // trees whose offsets are computed for this size
		sc.sizeTables(size, dim)
		sc.centres, sc.sums = sc.centres[:0], sc.sums[:0]
		for row := half; row <= g.H-half; row += step {
			for col := half; col <= g.W-half; col += step {
				if !inner.Empty() && (!(image.Point{X: col, Y: row}).In(inner) ||
					row-half >= inner.Min.Y && row+half <= inner.Max.Y && col-half >= inner.Min.X && col+half <= inner.Max.X) {
					continue
				}
				sc.centres = append(sc.centres, int32(row*dim+col))
				sc.sums = append(sc.sums, 0)
			}
		}
		{
			centres, sums := sc.centres, sc.sums
			for t := 0; t < fc.trees && len(centres) > 0; t++ {
				pred := fc.preds[nodes*t : nodes*(t+1)]
				thr := fc.thresholds[t]
				kept := 0
				if t == ready && len(centres) <= directWindows {
					// Too few windows left to pay for the tree's offsets.
					codes := (*[4 * treeNodes]int8)(fc.codes[4*nodes*t:])
					for i, c := range centres {
						out := sums[i] + pred[sc.leafDirect(pix, int(c), codes)-nodes]
						centres[kept], sums[kept] = c, out
						kept += gt(out, thr)
					}
					centres, sums = centres[:kept], sums[:kept]
					ready++
					continue
				}
				if t == ready {
					fc.treeOffsets(sc, t)
					ready++
				}
				o := (*[2 * treeNodes]int32)(sc.offs[2*nodes*t:])
				n4 := len(centres) &^ 3
				for i := 0; i < n4; i += 4 {
					c := (*[4]int32)(centres[i:])
					l0, l1, l2, l3 := leaf4(pix, c, o)
					out0, out1, out2, out3 := sums[i]+pred[l0-nodes], sums[i+1]+pred[l1-nodes], sums[i+2]+pred[l2-nodes], sums[i+3]+pred[l3-nodes]
					c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
					centres[kept], sums[kept] = c0, out0
					kept += gt(out0, thr)
					centres[kept], sums[kept] = c1, out1
					kept += gt(out1, thr)
					centres[kept], sums[kept] = c2, out2
					kept += gt(out2, thr)
					centres[kept], sums[kept] = c3, out3
					kept += gt(out3, thr)
				}
				for i := n4; i < len(centres); i++ {
					c := centres[i]
					out := sums[i] + pred[leaf(pix, int(c), o)-nodes]
					centres[kept], sums[kept] = c, out
					kept += gt(out, thr)
				}
				centres, sums = centres[:kept], sums[:kept]
			}
			last := fc.thresholds[fc.trees-1]
			for i, c := range centres {
				if q := sums[i] - last; q > 0 {
					dets = append(dets, pigo.Detection{Row: int(c) / dim, Col: int(c) % dim, Scale: size, Q: q})
				}
			}
		}
		size = int(float64(size) + math.Max(2, float64(size)*scale-float64(size)))
	}
	return dets
}

// scanScratch is scan's reusable memory.
type scanScratch struct {
	offs    []int32    // per tree and node, the offsets of its two pixels
	rowOff  [256]int32 // per code value (as uint8), its row offset in pixels
	colOff  [256]int32 // and its column offset, for the current size
	centres []int32    // the row's windows still in the cascade
	sums    []float32  // their running scores
}

// sizeTables fills the row and column parts of a node offset for every
// code value and the given window size. Pixel (r·256 + code·size)>>8 equals
// r + (code·size)>>8 for an arithmetic shift, so each node's two pixels sit
// at fixed offsets from the window centre for the whole size.
func (sc *scanScratch) sizeTables(size, dim int) {
	for v := -128; v < 128; v++ {
		d := int32(v * size >> 8)
		sc.rowOff[uint8(v)] = d * int32(dim)
		sc.colOff[uint8(v)] = d
	}
}

// treeOffsets fills tree t's node offsets from the size tables.
func (fc *faceCascade) treeOffsets(sc *scanScratch, t int) {
	nodes := 1 << fc.depth
	codes := fc.codes[4*t*nodes : 4*(t+1)*nodes]
	offs := sc.offs[2*t*nodes : 2*(t+1)*nodes]
	for i := range nodes {
		c := codes[4*i : 4*i+4 : 4*i+4]
		offs[2*i] = sc.rowOff[uint8(c[0])] + sc.colOff[uint8(c[1])]
		offs[2*i+1] = sc.rowOff[uint8(c[2])] + sc.colOff[uint8(c[3])]
	}
}

// directWindows is the number of windows at or below which a tree is
// walked through the size tables instead of its precomputed offsets:
// filling a tree's 2·64 offsets costs about as much as walking four windows
// the slow way.
const directWindows = 4

// leafDirect is leaf reading the node offsets from the size tables.
func (sc *scanScratch) leafDirect(pix []uint8, c int, codes *[4 * treeNodes]int8) int {
	i := 1
	for range treeDepth {
		n := codes[4*i&255 : 4*i&255+4 : 4*i&255+4]
		p1 := c + int(sc.rowOff[uint8(n[0])]+sc.colOff[uint8(n[1])])
		p2 := c + int(sc.rowOff[uint8(n[2])]+sc.colOff[uint8(n[3])])
		i = 2*i + le(pix[p1], pix[p2])
	}
	return i
}

// le is 1 when a <= b, else 0, without a branch.
func le(a, b uint8) int {
	var v int
	if a <= b {
		v = 1
	}
	return v
}

// gt is 1 when a > b, else 0, without a branch.
func gt(a, b float32) int {
	var v int
	if a > b {
		v = 1
	}
	return v
}

// treeDepth is the depth of the bundled face cascade's trees; leaf is
// unrolled for it.
const (
	treeDepth = 6
	treeNodes = 1 << treeDepth
)

// leaf walks one tree for the window centred at pixel index c and returns
// the leaf reached, in [treeNodes, 2·treeNodes). o holds the tree's node
// offsets for the current window size.
func leaf(pix []uint8, c int, o *[2 * treeNodes]int32) int {
	// The masks only tell the compiler the index is in range.
	i := 1
	i = 2*i + le(pix[c+int(o[2*i&127])], pix[c+int(o[(2*i+1)&127])])
	i = 2*i + le(pix[c+int(o[2*i&127])], pix[c+int(o[(2*i+1)&127])])
	i = 2*i + le(pix[c+int(o[2*i&127])], pix[c+int(o[(2*i+1)&127])])
	i = 2*i + le(pix[c+int(o[2*i&127])], pix[c+int(o[(2*i+1)&127])])
	i = 2*i + le(pix[c+int(o[2*i&127])], pix[c+int(o[(2*i+1)&127])])
	i = 2*i + le(pix[c+int(o[2*i&127])], pix[c+int(o[(2*i+1)&127])])
	return i
}

// leaf4 is leaf for four windows at once: their chains of dependent loads
// are independent, and interleaving them keeps the processor busy.
func leaf4(pix []uint8, c *[4]int32, o *[2 * treeNodes]int32) (i0, i1, i2, i3 int) {
	c0, c1, c2, c3 := int(c[0]), int(c[1]), int(c[2]), int(c[3])
	i0, i1, i2, i3 = 1, 1, 1, 1
	// Six levels, unrolled by hand: the compiler neither unrolls the loop
	// nor inlines a helper this size.
	i0 = 2*i0 + le(pix[c0+int(o[2*i0&127])], pix[c0+int(o[(2*i0+1)&127])])
	i1 = 2*i1 + le(pix[c1+int(o[2*i1&127])], pix[c1+int(o[(2*i1+1)&127])])
	i2 = 2*i2 + le(pix[c2+int(o[2*i2&127])], pix[c2+int(o[(2*i2+1)&127])])
	i3 = 2*i3 + le(pix[c3+int(o[2*i3&127])], pix[c3+int(o[(2*i3+1)&127])])
	i0 = 2*i0 + le(pix[c0+int(o[2*i0&127])], pix[c0+int(o[(2*i0+1)&127])])
	i1 = 2*i1 + le(pix[c1+int(o[2*i1&127])], pix[c1+int(o[(2*i1+1)&127])])
	i2 = 2*i2 + le(pix[c2+int(o[2*i2&127])], pix[c2+int(o[(2*i2+1)&127])])
	i3 = 2*i3 + le(pix[c3+int(o[2*i3&127])], pix[c3+int(o[(2*i3+1)&127])])
	i0 = 2*i0 + le(pix[c0+int(o[2*i0&127])], pix[c0+int(o[(2*i0+1)&127])])
	i1 = 2*i1 + le(pix[c1+int(o[2*i1&127])], pix[c1+int(o[(2*i1+1)&127])])
	i2 = 2*i2 + le(pix[c2+int(o[2*i2&127])], pix[c2+int(o[(2*i2+1)&127])])
	i3 = 2*i3 + le(pix[c3+int(o[2*i3&127])], pix[c3+int(o[(2*i3+1)&127])])
	i0 = 2*i0 + le(pix[c0+int(o[2*i0&127])], pix[c0+int(o[(2*i0+1)&127])])
	i1 = 2*i1 + le(pix[c1+int(o[2*i1&127])], pix[c1+int(o[(2*i1+1)&127])])
	i2 = 2*i2 + le(pix[c2+int(o[2*i2&127])], pix[c2+int(o[(2*i2+1)&127])])
	i3 = 2*i3 + le(pix[c3+int(o[2*i3&127])], pix[c3+int(o[(2*i3+1)&127])])
	i0 = 2*i0 + le(pix[c0+int(o[2*i0&127])], pix[c0+int(o[(2*i0+1)&127])])
	i1 = 2*i1 + le(pix[c1+int(o[2*i1&127])], pix[c1+int(o[(2*i1+1)&127])])
	i2 = 2*i2 + le(pix[c2+int(o[2*i2&127])], pix[c2+int(o[(2*i2+1)&127])])
	i3 = 2*i3 + le(pix[c3+int(o[2*i3&127])], pix[c3+int(o[(2*i3+1)&127])])
	i0 = 2*i0 + le(pix[c0+int(o[2*i0&127])], pix[c0+int(o[(2*i0+1)&127])])
	i1 = 2*i1 + le(pix[c1+int(o[2*i1&127])], pix[c1+int(o[(2*i1+1)&127])])
	i2 = 2*i2 + le(pix[c2+int(o[2*i2&127])], pix[c2+int(o[(2*i2+1)&127])])
	i3 = 2*i3 + le(pix[c3+int(o[2*i3&127])], pix[c3+int(o[(2*i3+1)&127])])
	return
}
