package gallery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/compare"
)

// Gallery is a set of enrolled face templates, one per identity id, all of
// one model, searched one against many. Implementations are safe for
// concurrent use. Every method validates its input before touching the
// store: a template of another model is facematch.ErrTemplateModel, a
// malformed one facematch.ErrTemplateFormat, a bad id ErrInvalidID.
type Gallery interface {
	// Enroll stores t under id. An id that is already enrolled is
	// ErrExists: remove it first (so a template is never silently
	// replaced, and the old one is really deleted).
	Enroll(ctx context.Context, id string, t *facematch.Template) error
	// EnrollUnique enrolls t under id unless another identity's template
	// matches it at or above threshold (a fraction in [0.70, 0.9999], see
	// CheckUniqueThreshold; 0 means 0.70): then nothing is stored and the
	// error is a *DuplicateError
	// (errors.Is ErrDuplicate) naming that identity — the check against
	// one person enrolling under several identities. Check and store are
	// atomic with respect to other enrolments in this process (embedded)
	// or database (PostgreSQL).
	EnrollUnique(ctx context.Context, id string, t *facematch.Template, threshold float64) error
	// Remove deletes the templates of ids and reports how many were
	// enrolled. Unknown ids are not an error. Deletion is real: see each
	// implementation for what happens to the bytes.
	Remove(ctx context.Context, ids ...string) (int, error)
	// Search returns the enrolled templates most similar to t, best first
	// (ties by id), at most opts.K of them, with a calibrated percentage at
	// or above opts.MinPercentage.
	Search(ctx context.Context, t *facematch.Template, opts *SearchOptions) ([]Match, error)
	// Count returns the number of enrolled templates.
	Count(ctx context.Context) (int, error)
	// Close releases the store. Other methods fail after it.
	Close() error
}

// Limits.
const (
	// MaxIDLength is the longest id accepted, in bytes.
	MaxIDLength = 255
	// DefaultK is the number of results Search returns when SearchOptions.K
	// is 0.
	DefaultK = 10
	// MaxK bounds SearchOptions.K (the memory of one search).
	MaxK = 1000
)

// Errors a caller can cause (besides facematch.ErrTemplateModel and
// facematch.ErrTemplateFormat).
var (
	// ErrInvalidID: an empty id, one longer than MaxIDLength bytes, not
	// UTF-8 or holding control characters.
	ErrInvalidID = errors.New("gallery: invalid id")
	// ErrExists: Enroll of an id that is already enrolled.
	ErrExists = errors.New("gallery: id already enrolled")
	// ErrDuplicate: EnrollUnique found another identity with the same
	// face; the error is a *DuplicateError.
	ErrDuplicate = errors.New("gallery: face already enrolled under another id")
	// ErrInvalidSearch: SearchOptions out of range.
	ErrInvalidSearch = errors.New("gallery: invalid search options")
	// ErrClosed: the gallery was closed.
	ErrClosed = errors.New("gallery: closed")
	// ErrModel: the store holds templates of another model than the one it
	// was opened for (wraps facematch.ErrTemplateModel too).
	ErrModel = fmt.Errorf("gallery: store of another model: %w", facematch.ErrTemplateModel)
	// ErrStore: the store failed (I/O, database); not the caller's fault.
	ErrStore = errors.New("gallery: store failure")
)

// DuplicateError is EnrollUnique's refusal: the face already belongs to ID.
type DuplicateError struct {
	// ID is the enrolled identity whose template matched best.
	ID string
	// Percentage is the calibrated match confidence with it.
	Percentage float64
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%v: matches %q at %s", ErrDuplicate, e.ID, facematch.FormatPercentage(e.Percentage))
}

// Unwrap returns ErrDuplicate.
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// SearchOptions tunes Search. A nil *SearchOptions means the defaults.
type SearchOptions struct {
	// K is the most results returned: 0 means DefaultK, at most MaxK.
	K int
	// MinPercentage drops results below this calibrated percentage, in
	// [0, 100]; 0 returns the K best whatever their score.
	MinPercentage float64
}

// Match is one search result.
type Match struct {
	// ID is the enrolled identity.
	ID string
	// Percentage is the calibrated match confidence, the one
	// Matcher.CompareTemplates gives for the same two templates.
	Percentage float64
	// Similarity is the cosine similarity of the two templates.
	Similarity float64
}

// Options configures a gallery. A nil *Options means the defaults.
type Options struct {
	// Calibration maps cosines to percentages; nil is compare.DefaultCalibration(), the
	// calibration facematch.Matcher uses by default. Give the Matcher's
	// (Matcher.Calibration) when it has its own.
	Calibration *compare.Calibration
}

func (o *Options) calibration() compare.Calibration {
	if o == nil || o.Calibration == nil {
		return compare.DefaultCalibration()
	}
	return *o.Calibration
}

// CheckID reports whether id is acceptable (errors wrap ErrInvalidID).
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDLength || !utf8.ValidString(id) {
		return fmt.Errorf("%w: %q (1 to %d bytes of UTF-8)", ErrInvalidID, truncate(id), MaxIDLength)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q holds control characters", ErrInvalidID, truncate(id))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// CheckSearchOptions reports whether opts is in range (errors wrap
// ErrInvalidSearch); nil is valid.
func CheckSearchOptions(opts *SearchOptions) error {
	_, _, _, err := searchParams(opts, compare.DefaultCalibration())
	return err
}

// searchParams validates opts and returns k and the smallest cosine whose
// percentage reaches opts.MinPercentage (-Inf for none).
func searchParams(opts *SearchOptions, cal compare.Calibration) (k int, minP, minCos float64, err error) {
	k = DefaultK
	if opts != nil {
		if opts.K < 0 || opts.K > MaxK {
			return 0, 0, 0, fmt.Errorf("%w: K %d outside [0, %d]", ErrInvalidSearch, opts.K, MaxK)
		}
		if opts.K != 0 {
			k = opts.K
		}
		minP = opts.MinPercentage
		if math.IsNaN(minP) || minP < 0 || minP > 100 {
			return 0, 0, 0, fmt.Errorf("%w: MinPercentage %g outside [0, 100]", ErrInvalidSearch, minP)
		}
	}
	minCos = math.Inf(-1)
	if minP > 0 {
		// The lowest percentage that rounds up to minP.
		minCos = cal.Cosine(max(minP-0.005, 1e-9))
		if minP >= 100 {
			minCos = math.Inf(1) // never reached: Percentage < 100 for finite cosines
		}
	}
	return k, minP, minCos, nil
}

// Candidate is a template an implementation's search kept for Rank.
type Candidate struct {
	ID     string
	Vector []float32
}

// Rank is the last step of every implementation's Search: it scores the
// candidates exactly (compare.Cosine, as Matcher.CompareTemplates does, so
// a gallery's percentages are bit-identical to CompareTemplates'), drops
// those below minP, sorts best first (ties by id) and keeps k.
func Rank(cands []Candidate, q []float32, cal compare.Calibration, k int, minP float64) []Match {
	out := make([]Match, 0, len(cands))
	for _, c := range cands {
		sim := compare.Cosine(q, c.Vector)
		p := compare.RoundPercentage(cal.Percentage(sim))
		if minP <= 0 || compare.Meets(p, minP/100) {
			out = append(out, Match{ID: c.ID, Percentage: p, Similarity: sim})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Similarity != out[j].Similarity {
			return out[i].Similarity > out[j].Similarity
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// MaxUniqueThreshold is the highest EnrollUnique threshold.
const MaxUniqueThreshold = 0.9999

// DefaultUniqueThreshold is the EnrollUnique threshold the CLI and the
// service use when none is given. It is higher than Compare's 0.70 because
// a probe meets every enrolled identity: on LFW (1,559 enrolled people;
// gallery/MEASUREMENTS.md) 0.70 let 73 % of people who were not enrolled
// match someone, 0.95 let 1.6 % through and missed 11 % of real duplicates.
const DefaultUniqueThreshold = 0.95

// CheckUniqueThreshold reports whether t is a valid EnrollUnique threshold:
// [facematch.MinThreshold, MaxUniqueThreshold], wider than Compare's range
// because one-to-many needs stricter thresholds than one-to-one. A probe is
// compared with every enrolled identity, so the chance that some stranger
// passes grows with the gallery, and a one-to-one threshold lets most
// strangers match someone in a gallery of a few thousand people.
// gallery/MEASUREMENTS.md records, dated and with the command, how the
// false-match and missed-duplicate rates move with the threshold on LFW.
// Choose the threshold for the size of the gallery, and route refusals to a
// human.
func CheckUniqueThreshold(t float64) error {
	if math.IsNaN(t) || t < facematch.MinThreshold || t > MaxUniqueThreshold {
		return fmt.Errorf("%w: %g is outside [%.2f, %g] for EnrollUnique", facematch.ErrInvalidThreshold, t, facematch.MinThreshold, MaxUniqueThreshold)
	}
	return nil
}

// duplicateCheck runs EnrollUnique's search and returns the *DuplicateError
// when another id matches t at or above threshold.
func duplicateCheck(ctx context.Context, g Gallery, id string, t *facematch.Template, threshold float64) error {
	if threshold == 0 {
		threshold = facematch.DefaultThreshold
	}
	if err := CheckUniqueThreshold(threshold); err != nil {
		return err
	}
	ms, err := g.Search(ctx, t, &SearchOptions{K: 2, MinPercentage: threshold * 100})
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID != id {
			return &DuplicateError{ID: m.ID, Percentage: m.Percentage}
		}
	}
	return nil
}
