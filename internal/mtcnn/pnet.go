package mtcnn

import (
	"context"
	"fmt"
	"math"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/sample"
)

// P-Net is fully convolutional: output (i, j) scores the 12x12 window at
// (2i, 2j) of its input. It runs here on square tiles of a few fixed sizes,
// compiled once, rather than on each pyramid level's own size: a Net's
// buffers are sized at Compile, and a tile cut from a level gives the same
// windows as the whole level would (the receptive field is the window).
// Tiles overlap by 10 pixels (window 12, stride 2); the size used for a
// level is the one that covers it with the fewest tile pixels.
var tileSides = []int{160, 96, 64, 40}

const (
	window      = 12
	pnetStride  = 2
	rnetInput   = 24
	blackNormed = (0 - 127.5) * 0.0078125 // a black pixel after normalisation
)

// pnetTile is P-Net compiled for T x T inputs (outputs (T-10)/2 per side).
type pnetTile struct {
	side, out int
	net       *nn.Net
	prob, reg int // output positions
}

func newPNetTile(g *nn.Graph, side int) (*pnetTile, error) {
	gc := *g
	gc.Input = nn.Shape{C: 3, H: side, W: side}
	net, err := nn.Compile(&gc, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: P-Net on %dx%d: %w", ErrModel, side, side, err)
	}
	t := &pnetTile{side: side, out: (side - 10) / 2, net: net, prob: -1, reg: -1}
	for i, s := range net.Outputs() {
		switch s {
		case nn.Shape{C: 2, H: t.out, W: t.out}:
			t.prob = i
		case nn.Shape{C: 4, H: t.out, W: t.out}:
			t.reg = i
		}
	}
	if g.Input.C != 3 || len(net.Outputs()) != 2 || t.prob < 0 || t.reg < 0 {
		return nil, fmt.Errorf("%w: P-Net input %v, outputs %v on %dx%d tiles, want 2 and 4 channels of %dx%d", ErrModel, g.Input, net.Outputs(), side, side, t.out, t.out)
	}
	return t, nil
}

// tiles returns how many tiles of t cover n window positions per axis.
func (t *pnetTile) tiles(n int) int { return (n + t.out - 1) / t.out }

// stage1 runs P-Net over the pyramid levels and returns candidate squares in
// image coordinates (regressed), most probable first, at most
// MaxCandidates.
func (d *Detector) stage1(ctx context.Context, src *sample.Source, levels []level, o *Options) ([]box, error) {
	b := src.Bounds()
	pad := int(math.Round(o.Overhang * window))
	var all []box
	for li := range levels {
		l := &levels[li]
		got, err := d.scanLevel(ctx, l, pad, o.PNetThreshold)
		if err != nil {
			return nil, err
		}
		byScore(got)
		got = got[:min(len(got), 4*o.MaxCandidates)]
		got = nms(got, 0.5)
		for i := range got {
			bb := &got[i]
			r := l.toImage(b, bb.x0, bb.y0, bb.x1, bb.y1)
			r.score, r.reg = bb.score, bb.reg
			*bb = r
		}
		all = append(all, got...)
	}
	all = nms(all, 0.7)
	all = all[:min(len(all), o.MaxCandidates)]
	for i := range all {
		all[i] = all[i].regress()
	}
	return all, nil
}

// scanLevel runs P-Net over level l padded by pad black pixels on every
// side and returns the windows (level coordinates) scoring at least thresh.
func (d *Detector) scanLevel(ctx context.Context, l *level, pad int, thresh float32) ([]box, error) {
	pw, ph := l.w+2*pad, l.h+2*pad
	nx, ny := (pw-window)/pnetStride+1, (ph-window)/pnetStride+1
	if nx <= 0 || ny <= 0 {
		return nil, nil
	}
	t := d.pnet[0]
	for _, c := range d.pnet[1:] {
		if c.tiles(nx)*c.tiles(ny)*c.side*c.side < t.tiles(nx)*t.tiles(ny)*t.side*t.side {
			t = c
		}
	}
	in := make([]float32, t.side*t.side*3)
	prob := make([]float32, t.out*t.out*2)
	reg := make([]float32, t.out*t.out*4)
	dst := make([][]float32, 2)
	dst[t.prob], dst[t.reg] = prob, reg
	var res []box
	for ty := range t.tiles(ny) {
		for tx := range t.tiles(nx) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// Tile origin in level coordinates (the padding is negative).
			ox, oy := tx*t.out*pnetStride-pad, ty*t.out*pnetStride-pad
			fillTile(in, l, ox, oy, t.side)
			if err := t.net.RunHWC(dst, in); err != nil {
				return nil, fmt.Errorf("%w: P-Net: %w", ErrInternal, err)
			}
			// The input is transposed (the Caffe weights read x as rows):
			// output (i, j) is the window at x = ox+2i, y = oy+2j.
			for i := range t.out {
				gx := tx*t.out + i
				if gx >= nx {
					break
				}
				for j := range t.out {
					gy := ty*t.out + j
					if gy >= ny {
						break
					}
					k := i*t.out + j
					p := prob[2*k+1]
					if p < thresh {
						continue
					}
					x0, y0 := float64(ox+pnetStride*i), float64(oy+pnetStride*j)
					r := reg[4*k : 4*k+4]
					res = append(res, box{x0: x0, y0: y0, x1: x0 + window, y1: y0 + window, score: p, reg: [4]float32{r[0], r[1], r[2], r[3]}})
				}
			}
		}
	}
	return res, nil
}

// fillTile writes the side x side tile of l whose top-left level pixel is
// (ox, oy), transposed (tile row r is level column ox+r) and normalised to
// (v-127.5)/128, black outside the level.
func fillTile(dst []float32, l *level, ox, oy, side int) {
	for r := range side {
		x := ox + r
		row := dst[r*side*3 : (r+1)*side*3]
		if x < 0 || x >= l.w {
			for i := range row {
				row[i] = blackNormed
			}
			continue
		}
		for c := range side {
			y := oy + c
			d := row[c*3 : c*3+3 : c*3+3]
			if y < 0 || y >= l.h {
				d[0], d[1], d[2] = blackNormed, blackNormed, blackNormed
				continue
			}
			p := l.pix[(y*l.w+x)*3 : (y*l.w+x)*3+3 : (y*l.w+x)*3+3]
			d[0] = (p[0] - 127.5) * 0.0078125
			d[1] = (p[1] - 127.5) * 0.0078125
			d[2] = (p[2] - 127.5) * 0.0078125
		}
	}
}
