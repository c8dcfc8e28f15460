package mtcnn

import (
	"fmt"
	"image"
	"math"

	"github.com/facematch/facematch/internal/sample"
)

// stage2 runs R-Net on a 24x24 crop of each candidate square and returns
// the ones it accepts, regressed, squared and merged (IoU > 0.7), most
// probable first.
func (d *Detector) stage2(src *sample.Source, cands []box, o *Options) ([]Proposal, error) {
	// One RGB copy of the part of the image the crops read, so that each
	// pixel is converted once however many crops sample it.
	var foot image.Rectangle
	for i := range cands {
		foot = foot.Union(footprint(&cands[i]))
	}
	patch := new(sample.Patch)
	patch.Fill(src, foot)
	in := make([]float32, rnetInput*rnetInput*3)
	var prob [2]float32
	var reg [4]float32
	dst := make([][]float32, 2)
	dst[d.rProb], dst[d.rReg] = prob[:], reg[:]
	var kept []box
	for i := range cands {
		c := cands[i]
		cropSquare(in, patch, &c)
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
func cropSquare(dst []float32, p *sample.Patch, b *box) {
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
