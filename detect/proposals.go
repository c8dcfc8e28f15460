package detect

import (
	"context"
	"fmt"
	"image"
	"math"
	"sync/atomic"

	"github.com/facematch/facematch/internal/mtcnn"
	"github.com/facematch/facematch/internal/onet"
)

// The MTCNN proposal stage (Options.Proposals).
//
// pico's frontal cascade misses heads turned by more than about 30° and
// many faces that fill or cross the frame; MTCNN's P-Net and R-Net
// (internal/mtcnn) find nearly all of them (internal/mtcnn/MEASUREMENTS.md:
// 134 of the 134 margin-0 LFW crops and 59 of the 60 kpop13 images on
// which Detect found nothing). They are slower than the cascade, so the
// stage runs only when every other stage, quarter turns and retries
// included, found no face: with the option on, an image on which the
// default detector finds a face gets the very same faces.
//
// Each proposal goes to ONet, and a face is kept when ONet gives it a face
// probability of at least minProposalProb; the face is ONet's refined box
// with ONet's landmarks (from the crop of the proposal, the box ONet was
// trained to read), marked Face.Proposed, with Score 0 (pico did not score
// it). Overlapping faces are merged as all faces are (merge.go).

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
	ps, err := d.mtcnn.Propose(img, &mtcnn.Options{MinFaceSize: max(minFace, 12), Overhang: proposalOverhang})
	if err != nil {
		return nil, fmt.Errorf("%w: mtcnn: %v", ErrInternal, err)
	}
	var faces []Face
	for _, p := range ps {
		if ctx.Err() != nil {
			return nil, nil // DetectContext returns ctx.Err()
		}
		r, err := d.onet.RunChecked(img, onet.Box{X: p.X, Y: p.Y, Size: p.Size})
		if err != nil {
			return nil, fmt.Errorf("%w: onet: %v", ErrInternal, err)
		}
		if r.Face < minProposalProb {
			continue
		}
		x0, y0 := int(math.Round(r.Refined.X)), int(math.Round(r.Refined.Y))
		s := max(int(math.Round(r.Refined.Size)), 1)
		faces = append(faces, Face{
			Box:       image.Rect(x0, y0, x0+s, y0+s),
			Landmarks: r.Landmarks,
			Proposed:  true,
		})
	}
	return faces, nil
}
