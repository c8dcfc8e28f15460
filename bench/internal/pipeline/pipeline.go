package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/spatial/r2"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/align"
	"github.com/facematch/facematch/bench/internal/runner"
	"github.com/facematch/facematch/detect"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/internal/imageio"
)

// Face pick rules for images with several detected faces. PickShipped is
// the product's rule and the default; the others are diagnostics.
const (
	// PickShipped embeds each image with facematch.Matcher.Embed: the very
	// function Matcher.Compare uses to choose and embed an image's face
	// (default options), so a pair's cosine here is bit-identical to
	// Result.Similarity.
	PickShipped = "compare"
	// PickCenter (diagnostic): the face whose box centre is nearest the
	// image centre, the face LFW labels.
	PickCenter = "center"
	// PickLargest (diagnostic): the largest detected face, re-implemented
	// here without the Matcher's fallback to the next usable face.
	PickLargest = "largest"
)

// Options configures a Pipeline. The zero value means the shipped path:
// facematch.Matcher with default options (flip test-time augmentation on),
// one embedder per CPU.
type Options struct {
	// Landmarks, when not nil, replaces detection (diagnostic): image path
	// (relative to the dataset folder, slash-separated) → five reference
	// landmarks.
	Landmarks   map[string][5]r2.Vec
	Pick        string // PickShipped (default), PickCenter or PickLargest
	DisableFlip bool   // embed without horizontal-flip augmentation (diagnostic)
	Embedders   int    // embeddings computed at once (embed.Options.Workers); 0 = GOMAXPROCS
	Detector    *detect.Options
}

// Pipeline turns image files under a dataset folder into face embeddings.
type Pipeline struct {
	dir  string
	opts Options
	m    *facematch.Matcher // PickShipped without Landmarks
	det  *detect.Detector
	emb  *embed.Embedder
}

// Shipped reports whether the pipeline embeds through facematch.Matcher,
// the path Compare ships (no reference landmarks, PickShipped).
func (p *Pipeline) Shipped() bool { return p.m != nil }

// New builds the detector and the embedder for images under dir.
func New(dir string, opts *Options) (*Pipeline, error) {
	p := &Pipeline{dir: dir}
	if opts != nil {
		p.opts = *opts
	}
	switch p.opts.Pick {
	case "":
		p.opts.Pick = PickShipped
	case PickShipped, PickCenter, PickLargest:
	default:
		return nil, fmt.Errorf("pipeline: unknown face pick %q (want %s, %s or %s)", p.opts.Pick, PickShipped, PickCenter, PickLargest)
	}
	if p.opts.Pick == PickShipped && p.opts.Landmarks == nil {
		m, err := facematch.New(&facematch.Options{
			Detector: p.opts.Detector,
			Embedder: &embed.Options{DisableFlip: p.opts.DisableFlip, Workers: p.opts.Embedders},
		})
		if err != nil {
			return nil, err
		}
		p.m = m
		return p, nil
	}
	if p.opts.Landmarks == nil {
		d, err := detect.New(p.opts.Detector)
		if err != nil {
			return nil, err
		}
		p.det = d
	}
	e, err := embed.New(&embed.Options{DisableFlip: p.opts.DisableFlip, Workers: p.opts.Embedders})
	if err != nil {
		return nil, err
	}
	p.emb = e
	return p, nil
}

// Decode reads and decodes image rel (relative to the dataset folder).
func (p *Pipeline) Decode(rel string) (image.Image, error) {
	data, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	img, _, err := imageio.Decode(data, nil)
	return img, err
}

// landmarks returns the five landmarks of the face to embed in img (image
// rel), from the reference file or the detector (diagnostic paths only). The error wraps
// runner.ErrNoFace when there is none.
func (p *Pipeline) landmarks(rel string, img image.Image) ([5]r2.Vec, error) {
	if p.opts.Landmarks != nil {
		lm, ok := p.opts.Landmarks[rel]
		if !ok {
			return lm, fmt.Errorf("not in the reference landmarks: %w", runner.ErrNoFace)
		}
		return lm, nil
	}
	faces, err := p.det.Detect(img)
	if err != nil {
		return [5]r2.Vec{}, err
	}
	if len(faces) == 0 {
		return [5]r2.Vec{}, runner.ErrNoFace
	}
	return faces[Pick(faces, img.Bounds(), p.opts.Pick)].Landmarks, nil
}

// Pick returns the index of the face chosen by rule among faces found in an
// image with bounds b: PickLargest takes faces[0] (detect sorts largest
// first); PickCenter the face whose box centre is nearest the image centre.
func Pick(faces []detect.Face, b image.Rectangle, rule string) int {
	if rule == PickLargest || len(faces) < 2 {
		return 0
	}
	cx, cy := float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2
	best, bestD := 0, -1.0
	for i, f := range faces {
		fx, fy := float64(f.Box.Min.X+f.Box.Max.X)/2, float64(f.Box.Min.Y+f.Box.Max.Y)/2
		d := (fx-cx)*(fx-cx) + (fy-cy)*(fy-cy)
		if bestD < 0 || d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// Embed runs the whole pipeline on image rel: decode, landmarks, align,
// embed; on the shipped path that is facematch.Matcher.Embed on the file.
// It has the signature of runner.EmbedFunc.
func (p *Pipeline) Embed(ctx context.Context, rel string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p.m != nil {
		vec, _, err := p.m.Embed(ctx, facematch.File(filepath.Join(p.dir, filepath.FromSlash(rel))))
		if errors.Is(err, facematch.ErrNoFace) {
			return nil, fmt.Errorf("%w: %w", runner.ErrNoFace, err)
		}
		return vec, err
	}
	img, err := p.Decode(rel)
	if err != nil {
		return nil, err
	}
	lm, err := p.landmarks(rel, img)
	if err != nil {
		return nil, err
	}
	crop, err := align.Crop(img, lm)
	if err != nil {
		return nil, fmt.Errorf("align: %w", err)
	}
	return p.emb.Embed(crop)
}

// LoadLandmarks reads a reference landmark file: JSON lines with "id" (path
// relative to the folder holding all datasets, e.g. "lfw/Name/Name_0001.jpg")
// and "points" (five [x, y] pairs in the landmark order of package detect).
// The returned map is keyed by the path relative to dataDir, found by
// dropping the base name of dataDir from the front of each id ("lfw/"); ids
// outside it are kept as they are.
func LoadLandmarks(file, dataDir string) (map[string][5]r2.Vec, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	prefix := filepath.Base(abs) + "/"
	out := map[string][5]r2.Vec{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec struct {
			ID     string       `json:"id"`
			Points [][2]float64 `json:"points"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if rec.ID == "" || len(rec.Points) != 5 {
			return nil, fmt.Errorf("%s:%d: want an id and 5 points, got %q and %d", file, line, rec.ID, len(rec.Points))
		}
		var lm [5]r2.Vec
		for i, pt := range rec.Points {
			lm[i] = r2.Vec{X: pt[0], Y: pt[1]}
		}
		out[strings.TrimPrefix(path.Clean(rec.ID), prefix)] = lm
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
