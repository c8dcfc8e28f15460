package mtcnn

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/facematch/facematch/internal/sample"
)

// stage2 runs R-Net on a 24x24 crop of each candidate square and returns
// the ones it accepts, regressed, squared and merged (IoU > 0.7), most
// probable first.
func (d *Detector) stage2(ctx context.Context, src *sample.Source, levels []level, cands []box, o *Options) ([]Proposal, error) {
	b := src.Bounds()
	// Crops of boxes that level 0 shows at 24 pixels or more are sampled
	// from the deepest such level (already area-averaged, so 2x2 samples
	// per output pixel suffice); smaller ones from the image, through one
	// RGB copy of the part they read, so that each pixel is converted once.
	var foot image.Rectangle
	area := 0
	for i := range cands {
		if pickLevel(levels, &cands[i]) < 0 {
			f := footprint(&cands[i]).Intersect(b)
			foot = foot.Union(f)
			area += f.Dx() * f.Dy()
		}
	}
	// The copy is made only when it is not much larger than what the crops
	// read (small boxes scattered over a large photo read the image
	// directly), so that memory stays proportional to the crops.
	var pix bilinear = src
	if !foot.Empty() && foot.Dx()*foot.Dy() <= max(4*area, 1<<16) {
		patch := new(sample.Patch)
		patch.Fill(src, foot)
		pix = patch
	}
	in := make([]float32, rnetInput*rnetInput*3)
	var prob [2]float32
	var reg [4]float32
	dst := make([][]float32, 2)
	dst[d.rProb], dst[d.rReg] = prob[:], reg[:]
	var kept []box
	for i := range cands {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := cands[i]
		if li := pickLevel(levels, &c); li >= 0 {
			cropLevel(in, &levels[li], b, &c)
		} else {
			cropSquare(in, pix, &c)
		}
		if err := d.rnet.RunHWC(dst, in); err != nil {
			return nil, fmt.Errorf("%w: R-Net: %w", ErrInternal, err)
		}
		if prob[1] < o.RNetThreshold {
			continue
		}
		c.score, c.reg = prob[1], reg
		kept = append(kept, c.regress())
	}
	kept = nms(kept, 0.7)
	res := make([]Proposal, len(kept))
	for i, k := range kept {
		res[i] = Proposal{X: k.x0, Y: k.y0, Size: k.x1 - k.x0, Prob: k.score}
	}
	return res, nil
}

// pickLevel returns the deepest level on which box c is at least 24 pixels
// wide and high, or -1 if none is (read it from the image then).
func pickLevel(levels []level, c *box) int {
	s := c.x1 - c.x0
	for li := len(levels) - 1; li >= 0; li-- {
		if s*levels[li].sx >= rnetInput && s*levels[li].sy >= rnetInput {
			return li
		}
	}
	return -1
}

// cropLevel is cropSquare reading level l (2x2 bilinear samples per output
// pixel, black outside the level); b is the image's bounds.
func cropLevel(dst []float32, l *level, b image.Rectangle, c *box) {
	// The box in level coordinates (pixel edges).
	x0, y0 := (c.x0-float64(b.Min.X))*l.sx, (c.y0-float64(b.Min.Y))*l.sy
	stepX, stepY := (c.x1-c.x0)*l.sx/rnetInput, (c.y1-c.y0)*l.sy/rnetInput
	for r := range rnetInput {
		for col := range rnetInput {
			var acc [3]float32
			for sy := range 2 {
				y := y0 + (float64(r)+0.25+0.5*float64(sy))*stepY - 0.5
				for sx := range 2 {
					x := x0 + (float64(col)+0.25+0.5*float64(sx))*stepX - 0.5
					l.addBilinear(x, y, &acc)
				}
			}
			o := (col*rnetInput + r) * 3 // transposed
			for ch := range 3 {
				dst[o+ch] = (acc[ch]*0.25 - 127.5) * 0.0078125
			}
		}
	}
}

// addBilinear adds the bilinear sample of l at (x, y) (pixel centres at
// integers) to acc, black outside the level.
func (l *level) addBilinear(x, y float64, acc *[3]float32) {
	fx0, fy0 := math.Floor(x), math.Floor(y)
	fx, fy := float32(x-fx0), float32(y-fy0)
	ix, iy := int(fx0), int(fy0)
	wys := [2]float32{1 - fy, fy}
	wxs := [2]float32{1 - fx, fx}
	for dy, wy := range wys {
		py := iy + dy
		if py < 0 || py >= l.h || wy == 0 {
			continue
		}
		for dx, wx := range wxs {
			px := ix + dx
			if px < 0 || px >= l.w || wx == 0 {
				continue
			}
			p := l.pix[(py*l.w+px)*3 : (py*l.w+px)*3+3 : (py*l.w+px)*3+3]
			w := wx * wy
			acc[0] += w * p[0]
			acc[1] += w * p[1]
			acc[2] += w * p[2]
		}
	}
}

// bilinear is a bilinear sampler of the image: *sample.Source or
// *sample.Patch.
type bilinear interface {
	AddBilinear(x, y float64, acc *[3]float64)
}

// footprint is a rectangle holding every pixel a bilinear sample inside b
// can read, with a pixel to spare.
func footprint(b *box) image.Rectangle {
	const far = 1 << 30 // clamp before converting: far boxes stay valid
	cl := func(v float64) int { return int(max(-far, min(far, v))) }
	return image.Rect(cl(math.Floor(b.x0))-2, cl(math.Floor(b.y0))-2, cl(math.Ceil(b.x1))+2, cl(math.Ceil(b.y1))+2)
}

// cropSquare fills dst (24x24 RGB, H, W, C order, transposed for the
// Caffe-trained weights, normalised to (v-127.5)/128) with square b. Each
// output pixel averages a k x k grid of bilinear samples over its footprint
// (k grows with the downscale, up to 4), approximating area interpolation.
// Outside the image reads black (package sample's policy), as in the
// reference MTCNN, which pads crops with zeros.
func cropSquare(dst []float32, p bilinear, b *box) {
	size := b.x1 - b.x0
	step := size / rnetInput
	k := min(max(int(math.Ceil(step)), 1), 4)
	inv := 1 / float64(k*k)
	var frac [4]float64
	for i := range k {
		frac[i] = (float64(i) + 0.5) / float64(k)
	}
	for r := range rnetInput {
		for c := range rnetInput {
			var acc [3]float64
			for sy := range k {
				y := b.y0 + (float64(r)+frac[sy])*step - 0.5
				for sx := range k {
					x := b.x0 + (float64(c)+frac[sx])*step - 0.5
					p.AddBilinear(x, y, &acc)
				}
			}
			o := (c*rnetInput + r) * 3 // transposed
			for ch := range 3 {
				dst[o+ch] = float32((acc[ch]*inv - 127.5) * 0.0078125)
			}
		}
	}
}
