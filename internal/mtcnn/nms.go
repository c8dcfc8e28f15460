package mtcnn

import (
	"cmp"
	"slices"
)

// box is a rectangle [x0, x1) x [y0, y1) in image coordinates with a
// score and a regression (edge offsets in units of the box's width and
// height: x0, y0, x1, y1).
type box struct {
	x0, y0, x1, y1 float64
	score          float32
	reg            [4]float32
}

func (b *box) area() float64 { return max(b.x1-b.x0, 0) * max(b.y1-b.y0, 0) }

// iou is the intersection over union of a and b.
func iou(a, b *box) float64 {
	w := min(a.x1, b.x1) - max(a.x0, b.x0)
	h := min(a.y1, b.y1) - max(a.y0, b.y0)
	if w <= 0 || h <= 0 {
		return 0
	}
	in := w * h
	return in / (a.area() + b.area() - in)
}

// byScore sorts boxes most probable first; ties keep a fixed order (by
// position), so the result never depends on the input order's accidents.
func byScore(boxes []box) {
	slices.SortStableFunc(boxes, func(a, b box) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.y0, b.y0); c != 0 {
			return c
		}
		if c := cmp.Compare(a.x0, b.x0); c != 0 {
			return c
		}
		return cmp.Compare(a.x1-a.x0, b.x1-b.x0)
	})
}

// nms keeps, most probable first, each box that overlaps no kept box at
// IoU above thresh (greedy non-maximum suppression). It sorts boxes and
// returns a prefix of it.
func nms(boxes []box, thresh float64) []box {
	byScore(boxes)
	kept := boxes[:0]
	for i := range boxes {
		b := boxes[i]
		ok := true
		for k := range kept {
			if iou(&kept[k], &b) > thresh {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, b)
		}
	}
	return kept
}

// regress moves the box's edges by its regression and makes it square
// about its centre (the side is the longer one).
func (b box) regress() box {
	w, h := b.x1-b.x0, b.y1-b.y0
	x0 := b.x0 + float64(b.reg[0])*w
	y0 := b.y0 + float64(b.reg[1])*h
	x1 := b.x1 + float64(b.reg[2])*w
	y1 := b.y1 + float64(b.reg[3])*h
	return square(box{x0: x0, y0: y0, x1: x1, y1: y1, score: b.score})
}

// square returns the square with b's centre and its longer side.
func square(b box) box {
	s := max(b.x1-b.x0, b.y1-b.y0)
	cx, cy := (b.x0+b.x1)/2, (b.y0+b.y1)/2
	return box{x0: cx - s/2, y0: cy - s/2, x1: cx + s/2, y1: cy + s/2, score: b.score, reg: b.reg}
}
