package detect

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// treeCascade is a regression-tree cascade in the format of pico's pupil
// localiser (pigo's "puploc" and "lps/*" files): a 16-byte header (stages,
// float32 scale multiplier applied after each stage, trees per stage, tree
// depth; little endian), then per tree its 2^depth-1 internal nodes as four
// int8 each (row1, col1, row2, col2 offsets in 1/256 of the window size) and
// its 2^depth leaves as two float32 each (row and column displacement in
// units of the window size).
//
// This is an independent implementation of that format; unlike pigo's
// RunDetector it takes its perturbations from a fixed table, so it is
// deterministic and needs no shared state.
type treeCascade struct {
	stages, trees, depth int
	scale                float32
	codes                []int8
	preds                []float32
}

func parseTreeCascade(name string, b []byte) (*treeCascade, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("detect: cascade %s: %d bytes, too short", name, len(b))
	}
	le := binary.LittleEndian
	st, tr, dp := le.Uint32(b[0:]), le.Uint32(b[8:]), le.Uint32(b[12:])
	sc := math.Float32frombits(le.Uint32(b[4:]))
	if st == 0 || st > 64 || tr == 0 || tr > 1024 || dp == 0 || dp > 16 || !(sc > 0 && sc <= 1) {
		return nil, fmt.Errorf("detect: cascade %s: bad header (stages %d, trees %d, depth %d, scale %v)", name, st, tr, dp, sc)
	}
	inner, leaves := 1<<dp-1, 1<<dp
	per := 4*inner + 8*leaves
	n := int(st) * int(tr)
	if len(b) != 16+n*per {
		return nil, fmt.Errorf("detect: cascade %s: %d bytes, want %d", name, len(b), 16+n*per)
	}
	tc := &treeCascade{
		stages: int(st), trees: int(tr), depth: int(dp), scale: sc,
		codes: make([]int8, 0, n*4*inner),
		preds: make([]float32, 0, n*2*leaves),
	}
	p := b[16:]
	for range n {
		for _, c := range p[:4*inner] {
			tc.codes = append(tc.codes, int8(c))
		}
		p = p[4*inner:]
		for i := range 2 * leaves {
			tc.preds = append(tc.preds, math.Float32frombits(le.Uint32(p[4*i:])))
		}
		p = p[8*leaves:]
	}
	return tc, nil
}

// run moves the window (row r, column c, size s) through all stages and
// returns where it ends. flip mirrors the cascade left-right (negated column
// offsets and column displacements), which turns a left-side landmark
// cascade into the right-side one. Node offsets are applied to the
// fractional window position before truncation to a pixel (pigo snaps the
// window to whole pixels first; keeping the fraction measured 7% lower
// landmark error on LFW).
func (tc *treeCascade) run(g *grayImage, r, c, s float32, flip bool) (float32, float32, float32) {
	inner := 1<<tc.depth - 1
	nc, np := 4*inner, 2*(inner+1)
	pix, w := g.Pix, g.W
	maxR, maxC := g.H-1, g.W-1
	sign := float32(1)
	if flip {
		sign = -1
	}
	ci, pi := 0, 0
	for range tc.stages {
		var dr, dc float32
		k := s / 256
		kc := sign * k
		reach := s/2 + 1
		inside := r-reach >= 0 && r+reach < float32(maxR) && c-reach >= 0 && c+reach < float32(maxC)
		for range tc.trees {
			codes := tc.codes[ci : ci+nc : ci+nc]
			idx := 0
			if inside {
				// All samples fall inside the image: no clamping, and
				// truncation equals floor for non-negative values.
				for range tc.depth {
					n := codes[4*idx : 4*idx+4 : 4*idx+4]
					r1 := int(r + float32(n[0])*k)
					c1 := int(c + float32(n[1])*kc)
					r2 := int(r + float32(n[2])*k)
					c2 := int(c + float32(n[3])*kc)
					idx = 2*idx + 1
					if pix[r1*w+c1] > pix[r2*w+c2] {
						idx++
					}
				}
			} else {
				for range tc.depth {
					n := codes[4*idx : 4*idx+4 : 4*idx+4]
					r1 := clampi(floori(r+float32(n[0])*k), maxR)
					c1 := clampi(floori(c+float32(n[1])*kc), maxC)
					r2 := clampi(floori(r+float32(n[2])*k), maxR)
					c2 := clampi(floori(c+float32(n[3])*kc), maxC)
					idx = 2*idx + 1
					if pix[r1*w+c1] > pix[r2*w+c2] {
						idx++
					}
				}
			}
			leaf := pi + 2*(idx-inner)
			dr += tc.preds[leaf]
			dc += tc.preds[leaf+1]
			ci += nc
			pi += np
		}
		r += dr * s
		c += sign * dc * s
		s *= tc.scale
	}
	return r, c, s
}

func floori(v float32) int {
	i := int(v)
	if float32(i) > v {
		i--
	}
	return i
}

func clampi(v, hi int) int {
	if v < 0 {
		return 0
	}
	if v > hi {
		return hi
	}
	return v
}

// Perturbs is the number of jittered starting windows each landmark cascade
// is run from (as in pigo 1.4.6); the landmark is the per-coordinate median
// of the end points.
const Perturbs = 63

// perturbation is one jittered start: offsets in units of the window size
// and a size multiplier.
type perturbation struct{ dr, dc, ms float32 }

// perturbTable is fixed at start-up from a PCG with constant seeds, so every
// run of every process uses the same jitter: pigo draws the same
// distribution (±7.5% shift, ×[0.925, 1.075] size) from the global
// math/rand instead.
var perturbTable = func() [Perturbs]perturbation {
	var t [Perturbs]perturbation
	rng := rand.New(rand.NewPCG(0x6661_6365, 0x6d61_7463)) // "face", "matc"
	for i := range t {
		t[i] = perturbation{
			dr: 0.15 * (0.5 - rng.Float32()),
			dc: 0.15 * (0.5 - rng.Float32()),
			ms: 0.925 + 0.15*rng.Float32(),
		}
	}
	return t
}()

// locate runs the cascade from Perturbs jittered copies of the window
// (r, c, s) and returns the median end point (row, column).
func (tc *treeCascade) locate(g *grayImage, r, c, s float32, flip bool) (float32, float32) {
	var rows, cols [Perturbs]float32
	for i, p := range perturbTable {
		rows[i], cols[i], _ = tc.run(g, r+s*p.dr, c+s*p.dc, s*p.ms, flip)
	}
	slices.Sort(rows[:])
	slices.Sort(cols[:])
	return rows[Perturbs/2], cols[Perturbs/2]
}
