package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/compare"
)

// ErrNoFace is wrapped by an EmbedFunc error when the image holds no face to
// embed. Any other EmbedFunc error (an undecodable or refused image, say)
// makes the image a failed image: its pairs are scored like a no-face pair
// and its reason is kept in Scores.Failed. Only a cancelled context stops
// the run.
var ErrNoFace = errors.New("runner: no face found")

// FailedImage is an image the pipeline refused (not JPEG/PNG, truncated,
// unreadable, …), with the error's text.
type FailedImage struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// NoFaceScore is the score given to a pair with a no-face image.
const NoFaceScore = -1.0

// EmbedFunc returns the embedding of the face to compare in image path
// (relative to the dataset folder, slash-separated). It must be safe for
// concurrent use.
type EmbedFunc func(ctx context.Context, path string) ([]float32, error)

// Scores is the outcome of Run: a cosine per pair.
type Scores struct {
	Pairs  []eval.Pair
	Cosine []float64 // per pair; NoFaceScore when NoFace[i]
	NoFace []bool    // per pair: one of its images had no face
	// NoFaceImages lists the distinct images without a face, sorted.
	NoFaceImages []string
	// Failed lists the images the pipeline refused, sorted by path. Their
	// pairs are flagged in NoFace too (scored NoFaceScore, never a match).
	Failed []FailedImage
	// ImagePaths and Embeddings give each distinct image's embedding (nil
	// when it had no face or failed); filled by Run, not by ReadTSV.
	ImagePaths []string
	Embeddings [][]float32
	Images     int           // distinct images embedded
	Elapsed    time.Duration // wall time of the embedding phase
	// Pipeline says how the embeddings were made (e.g. PipelineShipped);
	// WriteTSV records it in a "# pipeline: " line and ReadTSV reads it
	// back, so a calibration fit can refuse scores of another path.
	Pipeline string
}

// PipelineShipped is the Scores.Pipeline of scores made through
// facematch.Matcher — the path Matcher.Compare ships.
const PipelineShipped = "shipped (facematch.Matcher.Compare path)"

// pipelineHeader starts the scores-file line that records Scores.Pipeline.
const pipelineHeader = "# pipeline: "

// Options tunes Run.
type Options struct {
	Workers  int       // parallel EmbedFunc calls; 0 = GOMAXPROCS
	Progress io.Writer // progress bar destination (e.g. os.Stderr); nil = none
	// Similarity scores two embeddings; nil = compare.Similarity, the score
	// the facematch package calibrates (the cosine after the bundled
	// normalisation).
	Similarity func(a, b []float32) float64
}

// Run embeds every distinct image of pairs once with embed, in parallel, and
// scores every pair. A cancelled ctx or an EmbedFunc error other than
// ErrNoFace stops the run with that error (naming the image).
func Run(ctx context.Context, pairs []eval.Pair, embed EmbedFunc, opts *Options) (*Scores, error) {
	if opts == nil {
		opts = &Options{}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	images := eval.Images(pairs)
	embs := make([][]float32, len(images))
	noFace := make([]bool, len(images))
	failed := make([]string, len(images))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	bar := newProgress(opts.Progress, len(images), start)
	jobs := make(chan int)
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		runErr  error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				e, err := embed(ctx, images[i])
				switch {
				case errors.Is(err, ErrNoFace):
					noFace[i] = true
				case err != nil && ctx.Err() != nil:
					errOnce.Do(func() { runErr = fmt.Errorf("%s: %w", images[i], err); cancel() })
				case err != nil:
					failed[i] = err.Error()
				default:
					embs[i] = e
				}
				bar.done(1)
			}
		}()
	}
feed:
	for i := range images {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	bar.finish()
	if runErr != nil {
		return nil, runErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	sim := opts.Similarity
	if sim == nil {
		sim = compare.Similarity
	}
	idx := make(map[string]int, len(images))
	for i, im := range images {
		idx[im] = i
	}
	s := &Scores{Pairs: pairs, Cosine: make([]float64, len(pairs)), NoFace: make([]bool, len(pairs)), Images: len(images), Elapsed: time.Since(start),
		ImagePaths: images, Embeddings: embs}
	for i, im := range images {
		switch {
		case noFace[i]:
			s.NoFaceImages = append(s.NoFaceImages, im)
		case failed[i] != "":
			s.Failed = append(s.Failed, FailedImage{Path: im, Reason: failed[i]})
		}
	}
	sort.Strings(s.NoFaceImages)
	sort.Slice(s.Failed, func(i, j int) bool { return s.Failed[i].Path < s.Failed[j].Path })
	for k, p := range pairs {
		a, b := idx[p.A], idx[p.B]
		if embs[a] == nil || embs[b] == nil {
			s.Cosine[k], s.NoFace[k] = NoFaceScore, true
			continue
		}
		c := sim(embs[a], embs[b])
		if math.IsNaN(c) {
			return nil, fmt.Errorf("runner: pair %s / %s: no similarity for embeddings of %d and %d values", p.A, p.B, len(embs[a]), len(embs[b]))
		}
		s.Cosine[k] = c
	}
	return s, nil
}

// progress draws a one-line bar: [=====>    ]  1234/7701  16%  12.3 img/s  ETA 8m45s.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int, start time.Time) *progress {
	p := &progress{w: w, total: total, start: start}
	p.draw()
	return p
}

func (p *progress) done(k int) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += k
	if now := time.Now(); now.Sub(p.last) >= 250*time.Millisecond || p.n == p.total {
		p.last = now
		p.draw()
	}
}

func (p *progress) draw() {
	if p.w == nil {
		return
	}
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.n) / float64(p.total)
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	el := time.Since(p.start).Seconds()
	rate, eta := 0.0, "?"
	if el > 0 && p.n > 0 {
		rate = float64(p.n) / el
		eta = (time.Duration(float64(p.total-p.n)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d %3.0f%% %.1f img/s ETA %s   ", bar, p.n, p.total, 100*frac, rate, eta)
}

func (p *progress) finish() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
	fmt.Fprintln(p.w)
}

// WriteTSV writes one line per pair:
// path1<TAB>path2<TAB>same(0|1)<TAB>fold<TAB>cosine<TAB>no_face, after a
// '#' header line. The cosine is written with full float64 precision;
// no_face is 0 when both images had a face, else 1 (image 1 had none),
// 2 (image 2) or 3 (both).
func (s *Scores) WriteTSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	nf := make(map[string]bool, len(s.NoFaceImages))
	for _, im := range s.NoFaceImages {
		nf[im] = true
	}
	for _, f := range s.Failed {
		nf[f.Path] = true // a refused image: no face to compare either
	}
	if s.Pipeline != "" {
		fmt.Fprintln(bw, pipelineHeader+s.Pipeline)
	}
	fmt.Fprintln(bw, "# path1\tpath2\tsame\tfold\tcosine\tno_face")
	for i, p := range s.Pairs {
		flag := 0
		if s.NoFace[i] {
			flag = b2i(nf[p.A]) | 2*b2i(nf[p.B])
			if flag == 0 {
				flag = 3 // which image is unknown: say both
			}
		}
		fmt.Fprintf(bw, "%s\t%s\t%d\t%d\t%s\t%d\n", p.A, p.B, b2i(p.Same), p.Fold,
			strconv.FormatFloat(s.Cosine[i], 'g', -1, 64), flag)
	}
	return bw.Flush()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ReadTSV reads a file written by WriteTSV, recovering the no-face images
// from the no_face column. Elapsed stays zero.
func ReadTSV(r io.Reader) (*Scores, error) {
	sc := bufio.NewScanner(r)
	s := &Scores{}
	nf := map[string]bool{}
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), "\r")
		if p, ok := strings.CutPrefix(l, pipelineHeader); ok {
			s.Pipeline = p
			continue
		}
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("%w: scores line %d: want 6 tab-separated fields, got %d", eval.ErrFormat, line, len(f))
		}
		fold, err1 := strconv.Atoi(f[3])
		cos, err2 := strconv.ParseFloat(f[4], 64)
		flag, err3 := strconv.Atoi(f[5])
		if err1 != nil || err2 != nil || err3 != nil || (f[2] != "0" && f[2] != "1") || flag < 0 || flag > 3 {
			return nil, fmt.Errorf("%w: scores line %d: bad same, fold, cosine or no_face field", eval.ErrFormat, line)
		}
		s.Pairs = append(s.Pairs, eval.Pair{A: f[0], B: f[1], Same: f[2] == "1", Fold: fold})
		s.Cosine = append(s.Cosine, cos)
		s.NoFace = append(s.NoFace, flag != 0)
		if flag&1 != 0 {
			nf[f[0]] = true
		}
		if flag&2 != 0 {
			nf[f[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s.Pairs) == 0 {
		return nil, fmt.Errorf("%w: scores file holds no pairs", eval.ErrFormat)
	}
	s.Images = len(eval.Images(s.Pairs))
	for im := range nf {
		s.NoFaceImages = append(s.NoFaceImages, im)
	}
	sort.Strings(s.NoFaceImages)
	return s, nil
}

// Pool joins the scores of several pair lists into one: image paths are
// prefixed with the list's name ("lfw/…"; its index "0/…" when names is nil
// or a name repeats) so that equal paths in two lists stay distinct images,
// and folds are renumbered so that each list's folds stay apart. Per-image
// embeddings are not carried over.
func Pool(lists []*Scores, names []string) *Scores {
	out := &Scores{}
	offset := 0
	seen := map[string]bool{}
	for i, s := range lists {
		pre := strconv.Itoa(i) + "/"
		if i < len(names) && names[i] != "" && !seen[names[i]] {
			pre = names[i] + "/"
			seen[names[i]] = true
		}
		top := 0
		for k, p := range s.Pairs {
			out.Pairs = append(out.Pairs, eval.Pair{A: pre + p.A, B: pre + p.B, Same: p.Same, Fold: p.Fold + offset})
			out.Cosine = append(out.Cosine, s.Cosine[k])
			out.NoFace = append(out.NoFace, s.NoFace[k])
			top = max(top, p.Fold)
		}
		offset += top
		for _, im := range s.NoFaceImages {
			out.NoFaceImages = append(out.NoFaceImages, pre+im)
		}
		for _, f := range s.Failed {
			out.Failed = append(out.Failed, FailedImage{Path: pre + f.Path, Reason: f.Reason})
		}
		out.Images += s.Images
		out.Elapsed += s.Elapsed
	}
	return out
}
