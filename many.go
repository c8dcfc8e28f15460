package facematch

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// MaxCandidates is the most candidate images CompareMany takes (the service's
// image2 … image10).
const MaxCandidates = 9

// ErrTooManyCandidates: CompareMany was given no candidate or more than
// MaxCandidates.
var ErrTooManyCandidates = fmt.Errorf("give 1 to %d candidate images", MaxCandidates)

// ManyResult is the outcome of CompareMany.
type ManyResult struct {
	// Results holds one entry per candidate, in the order given. Each is
	// exactly what Compare(reference, candidate) returns for that pair,
	// or the error about that candidate.
	Results []CandidateResult
	// Best is the index in Results of the candidate with the highest
	// percentage (ties: the first), or -1 when no candidate could be
	// compared.
	Best int
	// Threshold is the threshold that was applied.
	Threshold float64
}

// CandidateResult is the comparison of the reference with one candidate.
type CandidateResult struct {
	// Result is Compare's answer for the pair (nil when Err is set); its
	// Images[0] is the reference, Images[1] the candidate.
	*Result
	// Err is the error about this candidate: an *ImageError whose Image is
	// the candidate's number among all images (2 for the first candidate,
	// as the service's image2), wrapping e.g. ErrNoFace.
	Err error
}

// BestResult returns the best comparison, or nil when none succeeded.
func (r *ManyResult) BestResult() *Result {
	if r.Best < 0 {
		return nil
	}
	return r.Results[r.Best].Result
}

// CompareMany compares the reference (image1) with each candidate, as
// Compare does with each pair: the same face policy (largest face,
// competing-face flag, RequireSingleFace, BestFace, Liveness), the same
// percentages and verdicts, bit for bit. The reference is read, searched
// for faces and embedded once, while the candidates are examined in
// parallel (at most GOMAXPROCS at a time); each result's Images[0] is that
// one examination (its Faces and Crop are shared between results).
//
// An error about the reference, an invalid threshold, a cancelled context,
// or a number of candidates outside [1, MaxCandidates] fails the whole call;
// an error about one candidate is reported in its CandidateResult and the
// others are still compared.
func (m *Matcher) CompareMany(ctx context.Context, reference Source, candidates []Source, opts *CompareOptions) (res *ManyResult, err error) {
	defer func() {
		if err != nil {
			res = nil
		}
	}()
	defer recoverInternal(&err)
	if len(candidates) == 0 || len(candidates) > MaxCandidates {
		return nil, fmt.Errorf("%w: got %d", ErrTooManyCandidates, len(candidates))
	}
	// The threshold is checked before any image is read, as Compare does.
	o, th, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	if reference == nil {
		return nil, &ImageError{Image: 1, Err: ErrNilSource}
	}
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	// The reference is examined once, alongside the first candidates; a
	// failure of it cancels their work, as in Compare.
	var (
		ref     examined
		refErr  error
		refDone = make(chan struct{})
	)
	go func() {
		defer close(refDone)
		defer func() {
			if refErr != nil {
				cancel()
			}
		}()
		defer recoverInternal(&refErr)
		ref, refErr = m.examineImage(inner, reference, false)
	}()
	res = &ManyResult{Results: make([]CandidateResult, len(candidates)), Best: -1}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, c := range candidates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			defer func() {
				if err != nil {
					res.Results[i].Err = &ImageError{Image: i + 2, Err: err}
				}
			}()
			defer recoverInternal(&err)
			if sharedReader(reference, c) {
				err = ErrSharedReader
				return
			}
			var cand examined
			var cerr error
			func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				cand, cerr = m.examineImage(inner, c, o.BestFace)
			}()
			<-refDone
			if cerr != nil || refErr != nil {
				err = cerr
				return
			}
			r, derr := m.decide(inner, &ref, &cand, th, &o)
			var ie *ImageError
			switch {
			case derr == nil:
				res.Results[i].Result = r
			case errors.As(derr, &ie):
				err = ie.Err
			default:
				err = derr
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if refErr != nil {
		return nil, &ImageError{Image: 1, Err: refErr}
	}
	for i, r := range res.Results {
		if r.Result != nil && (res.Best < 0 || r.Percentage > res.Results[res.Best].Percentage) {
			res.Best = i
		}
	}
	res.Threshold = th
	return res, nil
}
