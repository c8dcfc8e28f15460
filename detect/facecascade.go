package detect

import (
	"encoding/binary"
	"fmt"
	"math"

	pigo "github.com/esimov/pigo/core"
)

// faceCascade is pico's face classification cascade (pigo's "facefinder"
// file): 8 bytes of header we skip, tree depth and tree count (uint32 little
// endian), then per tree 2^depth-1 internal nodes of four int8 (row1, col1,
// row2, col2 in 1/256 of the window size), 2^depth float32 leaf values and a
// float32 rejection threshold on the running sum.
//
// Its evaluation is the same arithmetic as pigo's (*Pigo).RunCascade for
// upright windows — a test checks the detections are identical — but each
// node's pixel offsets are computed once per window size instead of once per
// window, which makes a scan several times faster.
type faceCascade struct {
	depth, trees int
	codes        [][4]int8 // trees × (2^depth-1) nodes, breadth-first from the root
	preds        []float32 // trees × 2^depth
	thresholds   []float32
}

func parseFaceCascade(b []byte) (*faceCascade, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("facefinder: %d bytes, too short", len(b))
	}
	le := binary.LittleEndian
	dp, tr := le.Uint32(b[8:]), le.Uint32(b[12:])
	if dp == 0 || dp > 12 || tr == 0 || tr > 1<<16 {
		return nil, fmt.Errorf("facefinder: bad header (depth %d, trees %d)", dp, tr)
	}
	inner, leaves := 1<<dp-1, 1<<dp
	per := 4*inner + 4*leaves + 4
	if len(b) != 16+int(tr)*per {
		return nil, fmt.Errorf("facefinder: %d bytes, want %d", len(b), 16+int(tr)*per)
	}
	fc := &faceCascade{depth: int(dp), trees: int(tr)}
	p := b[16:]
	for range int(tr) {
		for i := range inner {
			fc.codes = append(fc.codes, [4]int8{int8(p[4*i]), int8(p[4*i+1]), int8(p[4*i+2]), int8(p[4*i+3])})
		}
		p = p[4*inner:]
		for i := range leaves {
			fc.preds = append(fc.preds, math.Float32frombits(le.Uint32(p[4*i:])))
		}
		p = p[4*leaves:]
		fc.thresholds = append(fc.thresholds, math.Float32frombits(le.Uint32(p)))
		p = p[4:]
	}
	return fc, nil
}

// scan evaluates every window of sizes minSize.. maxSize (pigo's scale
// progression) and returns those with a positive score, in the same order
// and with the same values as pigo's RunCascade at angle 0.
func (fc *faceCascade) scan(g *grayImage, minSize, maxSize int, shift, scaleF float64) []pigo.Detection {
	var dets []pigo.Detection
	inner := 1<<fc.depth - 1
	leaves := inner + 1
	offs := make([]int32, 2*inner*fc.trees)
	pix, dim := g.Pix, g.W
	for s := minSize; s <= maxSize; s = int(float64(s) + math.Max(2, float64(s)*scaleF-float64(s))) {
		step := max(int(shift*float64(s)), 1)
		half := s/2 + 1
		ready := 0 // trees whose offsets are computed for this size
		for row := half; row <= g.H-half; row += step {
			for col := half; col <= g.W-half; col += step {
				base := int32(row*dim + col)
				var out float32
				ok := true
				for t := range fc.trees {
					if t == ready {
						o := offs[2*inner*t : 2*inner*(t+1)]
						for i, n := range fc.codes[inner*t : inner*(t+1)] {
							o[2*i] = int32(((int(n[0])*s)>>8)*dim + ((int(n[1]) * s) >> 8))
							o[2*i+1] = int32(((int(n[2])*s)>>8)*dim + ((int(n[3]) * s) >> 8))
						}
						ready++
					}
					o := offs[2*inner*t : 2*inner*(t+1) : 2*inner*(t+1)]
					idx := 0 // 0-based breadth-first node index
					for range fc.depth {
						b := 1
						if pix[base+o[2*idx]] > pix[base+o[2*idx+1]] {
							b = 0
						}
						idx = 2*idx + 1 + b
					}
					out += fc.preds[leaves*t+idx-inner]
					if out <= fc.thresholds[t] {
						ok = false
						break
					}
				}
				if ok {
					if q := out - fc.thresholds[fc.trees-1]; q > 0 {
						dets = append(dets, pigo.Detection{Row: row, Col: col, Scale: s, Q: q})
					}
				}
			}
		}
	}
	return dets
}
