package detect

import (
	"context"
	"image"
	"math"

	"github.com/facematch/facematch/internal/sample"
)

// grayImage is an 8-bit luma raster with stride == W.
type grayImage struct {
	Pix  []uint8
	W, H int
}

// toGray converts img to luma, area-averaging it down when its longest side
// exceeds maxSide. It returns the raster and the scale factors from raster
// to input pixels (input = raster * s along each axis, in continuous
// coordinates). Rows are read with internal/sample (the project's one pixel
// reader; luma of the colour composited over black). It stops early,
// leaving the raster incomplete, when ctx is done: an image.Image that is
// not one of the sampler's pixel types costs a call per pixel, seconds on a
// large one.
func toGray(ctx context.Context, img image.Image, maxSide int) (g grayImage, sx, sy float64) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := sample.New(img)
	long := max(w, h)
	if long <= maxSide {
		g = grayImage{Pix: make([]uint8, w*h), W: w, H: h}
		for y := 0; y < h; y++ {
			if y%grayCheckRows == 0 && ctx.Err() != nil {
				break
			}
			src.GrayRow(b.Min.Y+y, g.Pix[y*w:(y+1)*w])
		}
		return g, 1, 1
	}
	f := float64(maxSide) / float64(long)
	ow := max(1, int(math.Round(float64(w)*f)))
	oh := max(1, int(math.Round(float64(h)*f)))
	g = grayImage{Pix: make([]uint8, ow*oh), W: ow, H: oh}
	// Output column X averages input columns [xs[X], xs[X+1]); rows likewise.
	xs := make([]int, ow+1)
	for X := range xs {
		xs[X] = X * w / ow
	}
	row := make([]uint8, w)
	acc := make([]uint32, ow)
	y := 0
	for Y := 0; Y < oh; Y++ {
		y1 := (Y + 1) * h / oh
		clear(acc)
		n := uint32(0)
		for ; y < y1; y++ {
			if y%grayCheckRows == 0 && ctx.Err() != nil {
				return g, float64(w) / float64(ow), float64(h) / float64(oh)
			}
			src.GrayRow(b.Min.Y+y, row)
			for X := 0; X < ow; X++ {
				s := uint32(0)
				for _, v := range row[xs[X]:xs[X+1]] {
					s += uint32(v)
				}
				acc[X] += s
			}
			n++
		}
		out := g.Pix[Y*ow : (Y+1)*ow]
		for X := range out {
			cnt := n * uint32(xs[X+1]-xs[X])
			out[X] = uint8((acc[X] + cnt/2) / cnt)
		}
	}
	return g, float64(w) / float64(ow), float64(h) / float64(oh)
}

// grayCheckRows is how many input rows toGray converts between looks at its
// context: 16 rows of a 20000-pixel-wide image.Image read through At take
// about 20 ms.
const grayCheckRows = 16

// rotated returns g rotated by theta radians (counter-clockwise on screen,
// i.e. a face tilted clockwise by theta becomes upright) about its centre, on
// a canvas large enough to hold all of g, with bilinear sampling and the
// uncovered corners filled with mid grey. toSrc maps a point of the rotated
// raster back to g.
func (g grayImage) rotated(theta float64) (grayImage, func(x, y float64) (float64, float64)) {
	sin, cos := math.Sincos(theta)
	w, h := float64(g.W), float64(g.H)
	ow := int(math.Ceil(math.Abs(w*cos) + math.Abs(h*sin)))
	oh := int(math.Ceil(math.Abs(w*sin) + math.Abs(h*cos)))
	cx, cy := (w-1)/2, (h-1)/2
	ocx, ocy := float64(ow-1)/2, float64(oh-1)/2
	// A rotated-raster point p' corresponds to source point
	// p = R(theta) (p' - c') + c with screen axes (y down).
	toSrc := func(x, y float64) (float64, float64) {
		dx, dy := x-ocx, y-ocy
		return cos*dx - sin*dy + cx, sin*dx + cos*dy + cy
	}
	out := grayImage{Pix: make([]uint8, ow*oh), W: ow, H: oh}
	for Y := 0; Y < oh; Y++ {
		for X := 0; X < ow; X++ {
			sx, sy := toSrc(float64(X), float64(Y))
			out.Pix[Y*ow+X] = g.bilinear(sx, sy)
		}
	}
	return out, toSrc
}

// bilinear samples g at (x, y) (pixel centres at integers); outside → 128.
func (g grayImage) bilinear(x, y float64) uint8 {
	if x < 0 || y < 0 || x > float64(g.W-1) || y > float64(g.H-1) {
		return 128
	}
	x0, y0 := int(x), int(y)
	fx, fy := x-float64(x0), y-float64(y0)
	x1, y1 := min(x0+1, g.W-1), min(y0+1, g.H-1)
	p00 := float64(g.Pix[y0*g.W+x0])
	p01 := float64(g.Pix[y0*g.W+x1])
	p10 := float64(g.Pix[y1*g.W+x0])
	p11 := float64(g.Pix[y1*g.W+x1])
	v := (p00*(1-fx)+p01*fx)*(1-fy) + (p10*(1-fx)+p11*fx)*fy
	return uint8(v + 0.5)
}

// patch resamples a side x side square of g centred on (cx, cy) (pixel-centre
// coordinates) and turned by theta radians, so that the patch's x axis runs
// along direction theta in g. toSrc maps patch coordinates to g's.
func (g grayImage) patch(cx, cy, theta float64, side int) (grayImage, func(x, y float64) (float64, float64)) {
	sin, cos := math.Sincos(theta)
	pc := float64(side-1) / 2
	toSrc := func(x, y float64) (float64, float64) {
		dx, dy := x-pc, y-pc
		return cos*dx - sin*dy + cx, sin*dx + cos*dy + cy
	}
	out := grayImage{Pix: make([]uint8, side*side), W: side, H: side}
	for Y := 0; Y < side; Y++ {
		for X := 0; X < side; X++ {
			sx, sy := toSrc(float64(X), float64(Y))
			out.Pix[Y*side+X] = g.bilinear(sx, sy)
		}
	}
	return out, toSrc
}

// mirrored returns g flipped left-right and the map from its coordinates to
// g's (pixel centres at integers).
func (g grayImage) mirrored() (grayImage, func(x, y float64) (float64, float64)) {
	out := grayImage{Pix: make([]uint8, len(g.Pix)), W: g.W, H: g.H}
	for y := 0; y < g.H; y++ {
		src := g.Pix[y*g.W : (y+1)*g.W]
		dst := out.Pix[y*g.W : (y+1)*g.W]
		for x, v := range src {
			dst[g.W-1-x] = v
		}
	}
	w1 := float64(g.W - 1)
	return out, func(x, y float64) (float64, float64) { return w1 - x, y }
}
