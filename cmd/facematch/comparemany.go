package main

import (
	"context"
	"fmt"
	"io"

	"github.com/facematch/facematch"
)

// compareManyJSON is the --json answer of compare with more than two
// images: one entry per candidate (image2 …) and the best.
type compareManyJSON struct {
	Match     bool              `json:"match"` // the best candidate matches
	Best      int               `json:"best"`  // image number of the best candidate (2 …), 0 if none compared
	Threshold float64           `json:"threshold"`
	Model     string            `json:"model"`
	Results   []compareManyItem `json:"results"`
}

type compareManyItem struct {
	Image          int     `json:"image"` // 2 for IMAGE2, …
	Source         string  `json:"source"`
	Match          bool    `json:"match"`
	Percentage     float64 `json:"percentage"`
	PercentageText string  `json:"percentage_text"`
	Similarity     float64 `json:"similarity"`
	// MultipleFaces: this candidate shows a competing face (see compare).
	MultipleFaces bool          `json:"multiple_faces"`
	Liveness      *livenessJSON `json:"liveness,omitempty"` // with --liveness
	Faces         *imageJSON    `json:"faces,omitempty"`    // the candidate's faces
	Error         *jsonError    `json:"error,omitempty"`
}

// runCompareMany compares pos[0] with each of pos[1:] (Matcher.CompareMany)
// under the same face-policy options as a two-image compare. Exit status: 0
// when the best candidate matches (and, with --liveness, is live), 1 when
// not, 2 on an error about the reference or the arguments.
func runCompareMany(pos []string, opts *facematch.CompareOptions, asJSON, allowPrivate bool, stdout, stderr io.Writer) int {
	threshold := opts.Threshold
	if opts.RequireSingleFace && opts.BestFace {
		return fail(fmt.Errorf("%w: --single-face and --best-face exclude each other", errUsage), asJSON, stdout, stderr)
	}
	if len(pos)-1 > facematch.MaxCandidates {
		return fail(fmt.Errorf("%w: compare takes at most %d images, got %d", errUsage, facematch.MaxCandidates+1, len(pos)), asJSON, stdout, stderr)
	}
	if err := facematch.CheckThreshold(threshold); err != nil {
		return fail(err, asJSON, stdout, stderr)
	}
	srcs := make([]facematch.Source, len(pos))
	for i, arg := range pos {
		s, err := source(arg)
		if err != nil {
			return fail(&facematch.ImageError{Image: i + 1, Err: err}, asJSON, stdout, stderr)
		}
		srcs[i] = s
	}
	m, err := matcher(allowPrivate)
	if err != nil {
		return fail(err, asJSON, stdout, stderr)
	}
	res, err := m.CompareMany(context.Background(), srcs[0], srcs[1:], opts)
	if err != nil {
		return fail(err, asJSON, stdout, stderr)
	}
	best := res.BestResult()
	out := compareManyJSON{Match: best != nil && best.Match, Threshold: res.Threshold, Model: facematch.Model}
	if res.Best >= 0 {
		out.Best = res.Best + 2
	}
	for i, r := range res.Results {
		item := compareManyItem{Image: i + 2, Source: pos[i+1]}
		if r.Err != nil {
			fmt.Fprintf(stderr, "facematch: %v\n", r.Err)
			item.Error = &jsonError{Code: errorCode(r.Err), Message: r.Err.Error(), Image: i + 2}
		} else {
			im := r.Images[1]
			j := imageJSON{Source: pos[i+1], Width: im.Width, Height: im.Height, Count: len(im.Faces), Used: im.Used, Orientation: im.Orientation,
				Boxes: []jsonBox{}, Landmarks: [][5][2]float64{}, Scores: []float32{}}
			for _, f := range im.Faces {
				jf := toJSONFace(f)
				j.Boxes = append(j.Boxes, jf.Box)
				j.Landmarks = append(j.Landmarks, jf.Landmarks)
				j.Scores = append(j.Scores, jf.Score)
			}
			item.Match, item.Percentage, item.PercentageText, item.Similarity, item.Faces = r.Match, r.Percentage, r.PercentageText(), r.Similarity, &j
			item.MultipleFaces = r.MultipleFaces
			if r.Liveness != nil {
				l := toLivenessJSON(r.Liveness)
				item.Liveness = &l
			}
		}
		out.Results = append(out.Results, item)
	}
	if asJSON {
		writeJSON(stdout, out)
	} else {
		for _, it := range out.Results {
			switch {
			case it.Error != nil:
				fmt.Fprintf(stdout, "image%d %s: ERROR %s\n", it.Image, it.Source, it.Error.Message)
			case it.Match:
				fmt.Fprintf(stdout, "image%d %s: MATCH %s (similarity %.4f)\n", it.Image, it.Source, it.PercentageText, it.Similarity)
			default:
				fmt.Fprintf(stdout, "image%d %s: NO MATCH %s (similarity %.4f)\n", it.Image, it.Source, it.PercentageText, it.Similarity)
			}
		}
		if out.Best > 0 {
			fmt.Fprintf(stdout, "best: image%d %s (threshold %s)\n", out.Best, best.PercentageText(), facematch.FormatPercentage(100*res.Threshold))
		}
	}
	if out.Match && (best.Liveness == nil || best.Liveness.Live) {
		return exitMatch
	}
	return exitNoMatch
}
