package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/facematch/facematch"
)

// A face-match request may carry further images, image3 … image10
// (MaxImages in all), uploads and URLs mixed. Each is compared with image1
// as image2 is (facematch.Matcher.CompareMany: image1 is examined once),
// under the same limits: its URL goes through the fetch pool, its decode
// memory is charged to the budget with the others', and the request takes
// one place in the queue. The answer keeps the two-image fields — those of
// the best candidate — and adds data.best and data.results, one entry per
// candidate (image2 first) with its own result or error. A request with
// image1 and image2 only is answered exactly as before.

// manyComparer is implemented by *facematch.Matcher.
type manyComparer interface {
	CompareMany(ctx context.Context, reference facematch.Source, candidates []facematch.Source, opts *facematch.CompareOptions) (*facematch.ManyResult, error)
}

// ImageResult is the answer about one candidate image of a request with
// more than two images.
type ImageResult struct {
	Image  string `json:"image"`  // "image2", "image3" …
	Status string `json:"status"` // SUCCESS, or FAILURE with the error fields
	// Set when Status is SUCCESS: as the two-image answer's fields.
	Match         string        `json:"match,omitempty"`
	IsMatch       bool          `json:"isMatch"`
	MultipleFaces bool          `json:"multipleFaces"`
	FaceCount     int           `json:"faceCount"` // faces found in this image
	Liveness      *LivenessData `json:"liveness,omitempty"`
	// Set when Status is FAILURE: the error table row and message this
	// image alone would have caused in a two-image request.
	ResponseCode string `json:"responseCode,omitempty"`
	ResponseKey  string `json:"responseKey,omitempty"`
	Message      string `json:"message,omitempty"`
}

func defaultCompareMany(ctx context.Context, m Matcher, ref Image, cands []Image, opts *facematch.CompareOptions) (*facematch.ManyResult, error) {
	srcs := make([]facematch.Source, len(cands))
	for i, c := range cands {
		srcs[i] = c.Source()
	}
	if mc, ok := m.(manyComparer); ok {
		return mc.CompareMany(ctx, ref.Source(), srcs, opts)
	}
	// Another Matcher: one Compare per candidate, with CompareMany's rules
	// (an error about image1, or any error not about the candidate, fails
	// the whole call).
	res := &facematch.ManyResult{Results: make([]facematch.CandidateResult, len(cands)), Best: -1, Threshold: opts.Threshold}
	for i, src := range srcs {
		r, err := m.Compare(ctx, ref.Source(), src, opts)
		var ie *facematch.ImageError
		switch {
		case err == nil && r == nil:
			return nil, errors.New("matcher returned no result")
		case err == nil:
			res.Results[i].Result = r
			if res.Best < 0 || r.Percentage > res.Results[res.Best].Percentage {
				res.Best = i
			}
		case errors.As(err, &ie) && ie.Image == 2:
			res.Results[i].Err = &facematch.ImageError{Image: i + 2, Err: ie.Err}
		default:
			return nil, err
		}
	}
	return res, nil
}

// compareCandidates compares image1 with the candidates that were not
// refused before comparing, and returns one result per candidate.
func (s *Server) compareCandidates(ctx context.Context, j *job) (*facematch.ManyResult, error) {
	req := j.req
	cands := req.Candidates()
	var idx []int // position among cands of each compared candidate
	var compared []Image
	for i, c := range cands {
		if j.failed[i] == nil {
			idx = append(idx, i)
			compared = append(compared, c)
		}
	}
	opts := &facematch.CompareOptions{Threshold: req.Threshold, RequireSingleFace: req.SingleFace, Liveness: req.Liveness}
	sub, err := s.compareMany(ctx, j.m, req.Image1, compared, opts)
	if err != nil {
		return nil, err
	}
	if sub == nil || len(sub.Results) != len(compared) {
		return nil, errors.New("matcher returned no result per candidate")
	}
	out := &facematch.ManyResult{Results: make([]facematch.CandidateResult, len(cands)), Best: -1, Threshold: sub.Threshold}
	for k, r := range sub.Results {
		i := idx[k]
		var ie *facematch.ImageError
		if r.Err != nil && errors.As(r.Err, &ie) {
			r.Err = &facematch.ImageError{Image: i + 2, Err: ie.Err} // numbered among all images
		}
		if r.Err == nil && r.Result == nil {
			r.Err = &facematch.ImageError{Image: i + 2, Err: fmt.Errorf("%w: no result", facematch.ErrInternal)}
		}
		out.Results[i] = r
	}
	for i, err := range j.failed {
		if err != nil {
			out.Results[i].Err = err
		}
	}
	if sub.Best >= 0 {
		out.Best = idx[sub.Best]
	}
	return out, nil
}

// answerMany writes the answer of a request with more than two images. When
// no candidate could be compared, the first candidate's error answers the
// request, as image2's would in a two-image request.
func (s *Server) answerMany(w http.ResponseWriter, r *http.Request, lg *reqLog, j *job, many *facematch.ManyResult) {
	if many.Best < 0 {
		for _, c := range many.Results {
			if c.Err != nil {
				s.answerError(w, r, lg, c.Err)
				return
			}
		}
		s.answerError(w, r, lg, errors.New("no candidate compared and no error"))
		return
	}
	best := many.Results[many.Best].Result
	thr := many.Threshold
	if thr == 0 {
		thr = j.req.Threshold
	}
	data := &ResponseData{
		Status:        "SUCCESS",
		Match:         best.PercentageText(),
		IsMatch:       best.Match,
		Threshold:     thr,
		MultipleFaces: best.MultipleFaces,
		FaceCount:     FaceCount{Image1: len(best.Images[0].Faces)},
		Orientation:   Orientation{Image1: best.Images[0].Orientation},
		Liveness:      livenessData(best.Liveness),
		Best:          imageName(many.Best + 2),
	}
	if r2 := many.Results[0].Result; r2 != nil {
		data.FaceCount.Image2 = len(r2.Images[1].Faces)
		data.Orientation.Image2 = r2.Images[1].Orientation
	}
	failed := 0
	for i, c := range many.Results {
		data.Results = append(data.Results, imageResult(i+2, c))
		if c.Err != nil {
			failed++
		}
	}
	lg.outcome, lg.status, lg.code = SuccessKey, http.StatusOK, SuccessCode
	lg.detail = fmt.Sprintf("best=%s match=%t percentage=%.2f candidates=%d failed=%d", data.Best, best.Match, best.Percentage, len(many.Results), failed)
	writeJSON(w, http.StatusOK, &Response{
		DecentroTxnID: lg.txn,
		Status:        "SUCCESS",
		ResponseCode:  SuccessCode,
		Message:       SuccessMessage,
		Data:          data,
		ResponseKey:   SuccessKey,
	})
}

// imageResult is the entry of candidate image n.
func imageResult(n int, c facematch.CandidateResult) ImageResult {
	name := imageName(n)
	if c.Err != nil {
		code, msg := classify(c.Err)
		if code == CodeMultipleFaces {
			msg = strings.Replace(msg, "image2", name, 1)
		}
		return ImageResult{Image: name, Status: "FAILURE", ResponseCode: code.ResponseCode, ResponseKey: code.ResponseKey, Message: msg}
	}
	return ImageResult{
		Image:         name,
		Status:        "SUCCESS",
		Match:         c.PercentageText(),
		IsMatch:       c.Match,
		MultipleFaces: c.MultipleFaces,
		FaceCount:     len(c.Images[1].Faces),
		Liveness:      livenessData(c.Liveness),
	}
}
