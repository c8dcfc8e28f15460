package detect

import (
	"context"
	"fmt"
	"image"
	"math"
	"slices"
	"sync/atomic"

	"github.com/facematch/facematch/internal/mtcnn"
	"github.com/facematch/facematch/internal/onet"
)

// The MTCNN proposal stage (on unless Options.NoProposals).
//
// pico's frontal cascade misses heads turned by more than about 30° and
// many faces that fill or cross the frame; MTCNN's P-Net and R-Net
// (internal/mtcnn) find nearly all of them (internal/mtcnn/MEASUREMENTS.md:
// 134 of the 134 margin-0 LFW crops and 59 of the 60 kpop13 images on
// which Detect found nothing). They are slower than the cascade, so the
// stage runs only after every other stage, quarter turns and retries
// included, and only when what those found is missing or doubtful (see
// addProposals).
//
// Each proposal goes to ONet, and a face is kept when ONet gives it a face
// probability of at least minProposalProb; the face is ONet's refined box
// with ONet's landmarks (from the crop of the proposal, the box ONet was
// trained to read), marked Face.Proposed, with Score 0 (pico did not score
// it). Overlapping faces are merged as all faces are (merge.go).
//
// ONet reads a proposal with the image's edge pixels repeated outward
// (onet.PadEdge), not with black as MTCNN's own crops have it. The faces
// this stage is for are cut by the frame, and their proposals hang over
// it: with black there, ONet scored the face in 9 of the 10 LFW crops at
// margin 0 that still gave no face at 0.00–0.88, with repeated edges 6 of
// them at 0.93–1.00 (the crop ONet was trained on never had a black band
// across the forehead or chin; repeated edges keep skin, hair and
// background where they were, as the cascade's virtual padding does, see
// pad.go). Proposals inside the image read the same either way. Measured
// end to end (measurements-2026-11-30-proposals.md, "ONet's padding"):
// margin-0 crops 10 → 4 images without a face, margin −10 % 155 → 47;
// uncropped LFW and ORL unchanged to the bit, kpop13 2 → 1. The faces the
// cascade found keep black padding for ONet: repeated edges there cost ORL
// and kpop13 accuracy (ORL 99.36 → 99.31 %, kpop13 FRR at 0.70 45.4 →
// 48.3 %).

// minProposalProb is the ONet face probability a proposal needs to be kept.
// On the no-face fixtures and around one-person portraits at 160 to 2,000
// px, proposals off a face measured at most 0.84, faces recovered mostly
// above 0.9 (internal/mtcnn/MEASUREMENTS.md; not fitted on kpop13 or LFW).
const minProposalProb = 0.9

// proposalOverhang is mtcnn.Options.Overhang for the stage: P-Net windows
// may hang a quarter of their side over the image's edges, which finds the
// faces cut by the frame (MEASUREMENTS.md: 134/134 against 132/134 without
// on the margin-0 crops).
const proposalOverhang = 0.25

// largerFaceRatio is where the proposal stage starts looking, relative to
// the largest face the cascade stages found, on an image where it runs
// although they found one: the product compares each image's largest
// face, so a missed face larger than the one found matters, a missed
// smaller one far less, and large faces are found on the pyramid's coarse
// levels, which cost little.
const largerFaceRatio = 0.8

// addProposals runs the proposal stage on img, whose grey working copy g
// (scaled by sx, sy from img) the cascade stages found faces in, and adds
// the faces it finds to faces.
//
// With no face found it looks from the cascade's smallest face size. With
// faces found it runs only when all of them lie on one side of the image's
// vertical centre line (oneSide): the subject of a portrait or a selfie
// stands in the middle of the frame, and when the cascade found only faces
// off to one side, it may have missed the subject, turned by 30° or more (LFW's
// Yasser_Arafat_0003 and Chok_Tong_Goh_0001: only a smaller face beside
// the subject). It then looks from largerFaceRatio of the largest face's
// width and keeps only proposals apart from every face found (not
// overlapping one by IoU above maxExtraIoU, not holding one's centre).
//
// It also runs, from the same size, when every face found is doubtful
// (allDoubtful: upright, and scoring under MinRotatedScore or given a face
// probability under MinFaceProb by ONet). On a soft portrait that fills
// the frame (an LFW face cut to its box and enlarged four times, like an
// upscaled ID-document photo) the cascade misses the face, which crosses
// the frame, and scores a window on a part of it, an eye and the nose: at
// 10 to 17 with ONet at 0.1 to 0.5 on a third of such failures, at 20 to
// 41 with ONet unsure on the others. A proposal ONet confirms that holds
// the centres of such windows, each overlapping it by IoU maxExtraIoU or
// less, is the face they are parts of and replaces them; a proposal on a
// doubtful face itself (overlapping it more) leaves it as it is, and one
// apart from the faces found is not added unless they all lie on one
// side: a doubtful centred face is usually the subject, turned or
// shadowed, and the faces beside it bystanders (LFW's Kate_Capshaw_0002
// and Hartmut_Mehdorn_0001, where a larger bystander would have become the
// face compared).
//
// Even on the coarse levels the stage costs several times the cascade's
// fast path (P-Net runs on every level), so it does not run on the usual
// centred face. Faces found on a quarter-turned copy are kept as they are
// (P-Net, like pico, looks for upright faces).
func (d *Detector) addProposals(ctx context.Context, img image.Image, g *grayImage, sx, sy float64, faces []Face) ([]Face, error) {
	minSize, _ := d.sizes(g)
	minFace := float64(minSize) * max(sx, sy)
	// look: the subject may be missing (no face, or only faces to one
	// side); doubt: the faces found may be parts of a face.
	look := len(faces) == 0 || oneSide(faces, img.Bounds())
	doubt := len(faces) > 0 && d.allDoubtful(faces)
	if len(faces) > 0 {
		if faces[0].Orientation != 0 || !look && !doubt {
			return faces, nil
		}
		w := 0
		for _, f := range faces {
			w = max(w, f.Box.Dx())
		}
		minFace = max(minFace, largerFaceRatio*float64(w))
	}
	props, err := d.proposals(ctx, img, minFace)
	if err != nil {
		return nil, err
	}
	found := len(faces)
	for _, p := range props {
		if !overlaps(p.Box, faces[:found]) && !holdsCentre(p.Box, faces[:found]) {
			if look {
				faces = append(faces, p)
			}
			continue
		}
		if !doubt {
			continue
		}
		// A face ONet confirms around doubtful faces that do not overlap
		// it much: those were parts of it (an eye and the nose of a face
		// that fills the frame).
		var parts []int
		for i, f := range faces[:found] {
			if c := f.Box.Min.Add(f.Box.Max).Div(2); c.In(p.Box) && iou(p.Box, f.Box) <= maxExtraIoU {
				parts = append(parts, i)
			}
		}
		if len(parts) > 0 && len(parts) == countHeld(p.Box, faces[:found]) {
			faces[parts[0]] = p
			for _, i := range slices.Backward(parts[1:]) {
				faces = slices.Delete(faces, i, i+1)
				found--
			}
		}
	}
	return faces, nil
}

// allDoubtful says whether every face is a doubtful upright cascade face:
// scoring under MinRotatedScore or given a face probability under
// MinFaceProb by ONet (kept on the cascade's word, see confirm), so
// possibly a part of a larger face the cascade missed.
func (d *Detector) allDoubtful(faces []Face) bool {
	for _, f := range faces {
		if f.Proposed || f.Orientation != 0 || f.Angle != 0 || f.Score >= d.opts.MinRotatedScore && f.onetProb >= d.opts.MinFaceProb {
			return false
		}
	}
	return true
}

// countHeld counts the faces whose centre box holds.
func countHeld(box image.Rectangle, faces []Face) int {
	n := 0
	for _, f := range faces {
		if f.Box.Min.Add(f.Box.Max).Div(2).In(box) {
			n++
		}
	}
	return n
}

// oneSide says whether all faces lie on one side of the vertical centre line
// of bounds, none spanning it: then the subject, in the middle of a
// portrait or selfie, may be a face the cascade missed. Faces flanking the
// line (two people side by side) leave no room for one.
func oneSide(faces []Face, bounds image.Rectangle) bool {
	mid := (bounds.Min.X + bounds.Max.X) / 2
	left, right := false, false
	for _, f := range faces {
		switch {
		case f.Box.Max.X <= mid:
			left = true
		case f.Box.Min.X > mid:
			right = true
		default:
			return false // spans the centre line
		}
	}
	return left != right
}

// holdsCentre says whether box contains the centre of one of faces.
func holdsCentre(box image.Rectangle, faces []Face) bool {
	for _, f := range faces {
		c := f.Box.Min.Add(f.Box.Max).Div(2)
		if c.In(box) {
			return true
		}
	}
	return false
}

// proposalRuns counts the runs of the stage, for the tests that check it
// never runs with the default options.
var proposalRuns atomic.Int64

// proposals runs P-Net and R-Net on img, looking for faces from minFace
// input pixels, and returns the proposals ONet accepts as faces. It stops
// between proposals when ctx is done (DetectContext then returns
// ctx.Err()). Errors wrap ErrInternal (a bug or a runtime failure: the
// image was checked before).
func (d *Detector) proposals(ctx context.Context, img image.Image, minFace float64) ([]Face, error) {
	proposalRuns.Add(1)
	ps, err := d.mtcnn.ProposeContext(ctx, img, &mtcnn.Options{MinFaceSize: max(minFace, 12), Overhang: proposalOverhang})
	if ctx.Err() != nil {
		return nil, nil // DetectContext returns ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: mtcnn: %v", ErrInternal, err)
	}
	var faces []Face
	var probs []float32
	for _, p := range ps {
		if ctx.Err() != nil {
			return nil, nil // DetectContext returns ctx.Err()
		}
		r, err := d.onet.RunPadded(img, onet.Box{X: p.X, Y: p.Y, Size: p.Size}, onet.PadEdge)
		if err != nil {
			return nil, fmt.Errorf("%w: onet: %v", ErrInternal, err)
		}
		if r.Face < minProposalProb {
			continue
		}
		x0, y0 := int(math.Round(r.Refined.X)), int(math.Round(r.Refined.Y))
		s := max(int(math.Round(r.Refined.Size)), 1)
		f := Face{
			Box:       image.Rect(x0, y0, x0+s, y0+s),
			Landmarks: r.Landmarks,
			Proposed:  true,
		}
		// Two proposals on one face: ONet's refinement brings their boxes
		// together, but their landmarks can differ on a turned head, so
		// dedupe would keep both (LFW's Franz_Muentefering_0003: IoU
		// 0.84). Keep the one ONet is surer of.
		if j := slices.IndexFunc(faces, func(o Face) bool { return iou(o.Box, f.Box) >= dedupeIoU }); j >= 0 {
			if r.Face > probs[j] {
				faces[j], probs[j] = f, r.Face
			}
			continue
		}
		faces, probs = append(faces, f), append(probs, r.Face)
	}
	return faces, nil
}
