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

// CompareMany compares the reference (image1) with each candidate in turn,
// as Compare does with each pair: the same face policy, the same
// percentages and verdicts, bit for bit. The reference is read once (one
// fetch for a URL); its face is found and embedded once per candidate, the
// price of giving exactly Compare's answer for every pair. Candidates are
// compared in parallel (at most GOMAXPROCS at a time).
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
	// Validate the threshold before any image is read, as Compare does.
	th := DefaultThreshold
	if opts != nil && opts.Threshold != 0 {
		th = opts.Threshold
	}
	if err := CheckThreshold(th); err != nil {
		return nil, err
	}
	if reference == nil {
		return nil, &ImageError{Image: 1, Err: ErrNilSource}
	}
	refImg, err := reference.load(ctx, m)
	if err != nil {
		return nil, &ImageError{Image: 1, Err: err}
	}
	ref := Image(refImg)
	res = &ManyResult{Results: make([]CandidateResult, len(candidates)), Best: -1}
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		refErr error // an error about the reference (the same for every pair)
	)
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, c := range candidates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := m.Compare(inner, ref, c, opts)
			var ie *ImageError
			switch {
			case err == nil:
				res.Results[i].Result = r
			case errors.As(err, &ie) && ie.Image == 2:
				res.Results[i].Err = &ImageError{Image: i + 2, Err: ie.Err}
			default:
				mu.Lock()
				if refErr == nil {
					refErr = err
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if refErr != nil {
		return nil, refErr
	}
	for i, r := range res.Results {
		if r.Result != nil && (res.Best < 0 || r.Percentage > res.Results[res.Best].Percentage) {
			res.Best = i
		}
	}
	res.Threshold = th
	return res, nil
}
