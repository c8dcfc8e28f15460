package detect

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/spatial/r2"
)

// sameLandmarks says whether two faces put their points on the same face:
// the mean distance between corresponding points is under a third of the
// eye distance. Overlapping boxes with different points are two people,
// one partly behind the other (LFW's Hugh_Grant_0008 has two boxes at IoU
// 0.6 whose eyes lie 50 px apart).
func sameLandmarks(a, b Face) bool {
	iod := math.Max(r2.Norm(r2.Sub(a.Landmarks[1], a.Landmarks[0])), r2.Norm(r2.Sub(b.Landmarks[1], b.Landmarks[0])))
	var sum float64
	for k := range a.Landmarks {
		sum += r2.Norm(r2.Sub(a.Landmarks[k], b.Landmarks[k]))
	}
	return sum/5 < iod/3
}

// dedupeIoU is the overlap at or above which two final faces are one face
// (when their landmarks agree, see sameLandmarks).
const dedupeIoU = 0.5

// dedupe merges faces overlapping by dedupeIoU or more whose landmarks agree
// into the one whose box is best centred on its landmarks (see offCentre),
// visiting them by score (ties: the earlier). pigo's clustering is greedy and not
// transitive, and the weak-window pass adds ONet-confirmed windows, so two
// boxes on one face can survive (the 2012 portrait scaled to 640 px gave two
// at IoU 0.90).
func dedupe(faces []Face) []Face {
	order := make([]int, len(faces))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		switch {
		case faces[i].Score > faces[j].Score:
			return -1
		case faces[i].Score < faces[j].Score:
			return 1
		}
		return 0
	})
	var out []Face
	for _, i := range order {
		dup := false
		for j, o := range out {
			if iou(faces[i].Box, o.Box) >= dedupeIoU && sameLandmarks(faces[i], o) {
				// Keep the box better centred on its face: ONet's points
				// are the more accurate the closer its crop is to the
				// crops it was trained on.
				if offCentre(faces[i]) < offCentre(o) {
					out[j] = faces[i]
				}
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, faces[i])
		}
	}
	return out
}

// offCentre is the distance from f's box centre to the centroid of its
// landmarks, over the box size.
func offCentre(f Face) float64 {
	var c r2.Vec
	for _, p := range f.Landmarks {
		c = r2.Add(c, r2.Scale(0.2, p))
	}
	bc := r2.Vec{X: float64(f.Box.Min.X+f.Box.Max.X)/2 - 0.5, Y: float64(f.Box.Min.Y+f.Box.Max.Y)/2 - 0.5}
	return r2.Norm(r2.Sub(c, bc)) / float64(max(f.Box.Dx(), 1))
}
