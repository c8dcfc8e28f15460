package mtcnn

import (
	"context"
	"image"
	"math"

	"github.com/facematch/facematch/internal/sample"
)

// level is one image of the pyramid: RGB values 0…255 in H, W, C order,
// and its scale: level pixel x covers image pixels [x/sx, (x+1)/sx) from
// the image's left edge.
type level struct {
	w, h   int
	sx, sy float64
	pix    []float32
}

// scales returns the pyramid's level sizes for an image of w x h pixels:
// the first scales it by 12/MinFaceSize (less if that level would exceed
// MaxLevelPixels, never more than 1), each next one by ScaleFactor, down to
// the smallest on which a window (allowing its overhang) still fits.
func scales(w, h int, o *Options) [][2]int {
	s := math.Min(12/o.MinFaceSize, 1)
	if area := float64(w) * float64(h) * s * s; area > float64(o.MaxLevelPixels) {
		s *= math.Sqrt(float64(o.MaxLevelPixels) / area)
	}
	minSide := max(int(math.Ceil(12*(1-2*o.Overhang))), 2)
	var res [][2]int
	for ; ; s *= o.ScaleFactor {
		lw, lh := int(math.Ceil(float64(w)*s)), int(math.Ceil(float64(h)*s))
		if min(lw, lh) < minSide {
			return res
		}
		if len(res) > 0 && res[len(res)-1] == [2]int{lw, lh} {
			continue
		}
		res = append(res, [2]int{lw, lh})
	}
}

// axis holds the weights of an area (box-filter) resampling of n input
// pixels to m <= n outputs along one axis: output o averages input range
// [o·n/m, (o+1)·n/m), each input pixel weighted by its overlap.
type axis struct {
	start []int     // per output: first input index
	off   []int     // per output: offset of its weights in w (len m+1)
	w     []float32 // weights
}

func newAxis(n, m int) axis {
	r := float64(n) / float64(m)
	a := axis{start: make([]int, m), off: make([]int, m+1)}
	for o := range m {
		lo, hi := float64(o)*r, float64(o+1)*r
		i0 := int(math.Floor(lo))
		a.start[o] = i0
		for i := i0; i < n && float64(i) < hi; i++ {
			ov := math.Min(float64(i+1), hi) - math.Max(float64(i), lo)
			if ov <= 0 {
				continue
			}
			a.w = append(a.w, float32(ov/r))
		}
		a.off[o+1] = len(a.w)
	}
	return a
}

// contributions returns, per input index, the (at most two) outputs it
// contributes to and its weights (n >= m, so an input spans at most two
// outputs).
func (a *axis) contributions(n int) (outs [][2]int, ws [][2]float32) {
	outs = make([][2]int, n)
	ws = make([][2]float32, n)
	for i := range outs {
		outs[i] = [2]int{-1, -1}
	}
	for o := range a.start {
		for k, w := range a.w[a.off[o]:a.off[o+1]] {
			i := a.start[o] + k
			if outs[i][0] < 0 {
				outs[i][0], ws[i][0] = o, w
			} else {
				outs[i][1], ws[i][1] = o, w
			}
		}
	}
	return outs, ws
}

// resampleRow writes the horizontal area resampling of one RGB row (3
// values per input pixel) into dst (3 values per output pixel).
func (a *axis) resampleRow(dst, row []float32) {
	for o, i0 := range a.start {
		var r, g, b float32
		ws := a.w[a.off[o]:a.off[o+1]]
		px := row[3*i0 : 3*(i0+len(ws))]
		for k, w := range ws {
			p := px[3*k : 3*k+3 : 3*k+3]
			r += w * p[0]
			g += w * p[1]
			b += w * p[2]
		}
		dst[3*o], dst[3*o+1], dst[3*o+2] = r, g, b
	}
}

// resample area-resamples an image of sw x sh RGB pixels, whose rows row(y)
// supplies (3·sw values), to dw x dh, streaming: it holds one input row at
// a time besides the output.
func resample(sw, sh, dw, dh int, row func(y int) []float32) []float32 {
	ax, ay := newAxis(sw, dw), newAxis(sh, dh)
	outs, ws := ay.contributions(sh)
	dst := make([]float32, dw*dh*3)
	hrow := make([]float32, dw*3)
	for y := range sh {
		ax.resampleRow(hrow, row(y))
		for k := range 2 {
			o := outs[y][k]
			if o < 0 {
				continue
			}
			w := ws[y][k]
			d := dst[o*dw*3 : (o+1)*dw*3]
			for i, v := range hrow {
				d[i] += w * v
			}
		}
	}
	return dst
}

// pyramid builds the levels for sizes: the first from the image, the others
// from the first. It stops between levels when ctx is done (the caller
// checks ctx.Err()).
func pyramid(ctx context.Context, src *sample.Source, sizes [][2]int) []level {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	levels := make([]level, len(sizes))
	buf := make([]uint8, 3*w)
	fbuf := make([]float32, 3*w)
	first := sizes[0]
	levels[0] = level{w: first[0], h: first[1], sx: float64(first[0]) / float64(w), sy: float64(first[1]) / float64(h)}
	levels[0].pix = resample(w, h, first[0], first[1], func(y int) []float32 {
		src.RGBRow(b.Min.X, b.Min.Y+y, buf)
		for i, v := range buf {
			fbuf[i] = float32(v)
		}
		return fbuf
	})
	l0 := levels[0]
	for k := 1; k < len(sizes) && ctx.Err() == nil; k++ {
		lw, lh := sizes[k][0], sizes[k][1]
		levels[k] = level{w: lw, h: lh, sx: float64(lw) / float64(w), sy: float64(lh) / float64(h)}
		levels[k].pix = resample(l0.w, l0.h, lw, lh, func(y int) []float32 {
			return l0.pix[y*l0.w*3 : (y+1)*l0.w*3]
		})
	}
	return levels
}

// toImage maps a level rectangle (level pixel coordinates, fractional) to
// the image's coordinates.
func (l *level) toImage(b image.Rectangle, x0, y0, x1, y1 float64) box {
	return box{
		x0: float64(b.Min.X) + x0/l.sx, y0: float64(b.Min.Y) + y0/l.sy,
		x1: float64(b.Min.X) + x1/l.sx, y1: float64(b.Min.Y) + y1/l.sy,
	}
}
