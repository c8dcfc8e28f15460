package sample

import "math"

// AddBilinear adds to acc the bilinear sample of the image at (x, y)
// (pixel centres at integers): the four neighbouring pixels weighted by
// (1−fx or fx)·(1−fy or fy), taps of zero weight skipped, black outside the
// image. Summing in acc lets a caller average several samples per output
// pixel without rounding in between.
func (s *Source) AddBilinear(x, y float64, acc *[3]float64) {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0), int(y0)
	for dy := range 2 {
		wy := fy
		if dy == 0 {
			wy = 1 - fy
		}
		py := iy + dy
		if py < s.r.Min.Y || py >= s.r.Max.Y || wy == 0 {
			continue
		}
		for dx := range 2 {
			wx := fx
			if dx == 0 {
				wx = 1 - fx
			}
			px := ix + dx
			if px < s.r.Min.X || px >= s.r.Max.X || wx == 0 {
				continue
			}
			c := s.RGB(px, py)
			w := wx * wy
			acc[0] += w * float64(c[0])
			acc[1] += w * float64(c[1])
			acc[2] += w * float64(c[2])
		}
	}
}

// AddBilinear is Source.AddBilinear reading from the patch: the same taps,
// weights and order, and the same result wherever the patch holds every
// pixel of the image the sample reaches (outside the patch counts as
// outside the image).
func (p *Patch) AddBilinear(x, y float64, acc *[3]float64) {
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	ix, iy := int(x0)-p.r.Min.X, int(y0)-p.r.Min.Y
	w, h := p.r.Dx(), p.r.Dy()
	wys := [2]float64{1 - fy, fy}
	wxs := [2]float64{1 - fx, fx}
	for dy, wy := range wys {
		py := iy + dy
		if py < 0 || py >= h || wy == 0 {
			continue
		}
		row := p.pix[3*py*w : 3*(py+1)*w]
		for dx, wx := range wxs {
			px := ix + dx
			if px < 0 || px >= w || wx == 0 {
				continue
			}
			q := row[3*px : 3*px+3 : 3*px+3]
			wt := wx * wy
			acc[0] += wt * float64(q[0])
			acc[1] += wt * float64(q[1])
			acc[2] += wt * float64(q[2])
		}
	}
}
