package embed

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"

	"github.com/facematch/facematch/internal/nn"
	"github.com/facematch/facematch/internal/sample"
	"github.com/facematch/facematch/internal/tflite"
	"github.com/facematch/facematch/weights"
)

// InputSize is the side of the square RGB crop the model takes.
const InputSize = 112

// Dim is the length of an embedding.
const Dim = 192

// MaxWorkers caps Options.Workers.
const MaxWorkers = 1024

var (
	// ErrInputSize is returned when the image is not InputSize×InputSize.
	ErrInputSize = errors.New("embed: image must be 112x112")
	// ErrModel is returned (wrapped with detail) when model bytes are not a
	// usable MobileFaceNet-style TFLite model: corrupt or truncated data,
	// unsupported operators, or the wrong input/output shape.
	ErrModel = errors.New("embed: bad model")
	// ErrShortBuffer is returned by EmbedInto when dst holds fewer than Dim
	// floats.
	ErrShortBuffer = errors.New("embed: destination shorter than Dim")
	// ErrInternal wraps a failure inside the inference engine (a recovered
	// panic or a Gorgonia error); it indicates a bug, not bad input.
	ErrInternal = errors.New("embed: internal error")
)

// Options configures an Embedder. The zero value (or nil) gives the defaults.
type Options struct {
	// DisableFlip turns off flip test-time augmentation. By default Embed
	// returns normalise(raw(img) + raw(mirror(img))), which costs a second
	// forward pass (its accuracy effect is in the package documentation).
	DisableFlip bool
	// Workers is how many embeddings can run at the same time (each worker
	// is one Gorgonia graph and tape machine with its own buffers). 0 (or
	// less) means runtime.GOMAXPROCS(0); values above MaxWorkers are capped.
	// Workers are built on first use, so idle capacity costs nothing.
	Workers int
}

// Embedder computes face embeddings. It is safe for concurrent use.
type Embedder struct {
	net     *nn.Net
	flip    bool
	scratch sync.Pool // *buffers
}

// buffers is the memory of one Embed call outside the network.
type buffers struct {
	in        []float32 // the preprocessed crop, H, W, C
	raw, flip [Dim]float32
	out       [][]float32
}

// New returns an Embedder running the bundled MobileFaceNet model.
func New(opts *Options) (*Embedder, error) {
	return NewFromModel(weights.MobileFaceNet(), opts)
}

// NewFromModel returns an Embedder running the given TFLite model, which must
// take a [N,112,112,3] float32 input and produce Dim floats per image, using
// the operators listed in the package documentation. Errors wrap ErrModel.
func NewFromModel(model []byte, opts *Options) (e *Embedder, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("%w: %v", ErrModel, r)
		}
	}()
	g, err := tflite.Load(model)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if g.Input != (nn.Shape{C: 3, H: InputSize, W: InputSize}) {
		return nil, fmt.Errorf("%w: input %v, want 3x%dx%d", ErrModel, g.Input, InputSize, InputSize)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	net, err := nn.Compile(g, &nn.CompileOptions{Workers: min(o.Workers, MaxWorkers)})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if outs := net.Outputs(); len(outs) != 1 || outs[0].Len() != Dim {
		return nil, fmt.Errorf("%w: outputs %v, want one of %d values", ErrModel, outs, Dim)
	}
	e = &Embedder{net: net, flip: !o.DisableFlip}
	e.scratch.New = func() any {
		b := &buffers{in: make([]float32, InputSize*InputSize*3)}
		b.out = [][]float32{b.raw[:]}
		return b
	}
	return e, nil
}

// Embed returns the L2-normalised Dim-float embedding of an aligned
// InputSize×InputSize face crop (for example align.Crop's output). Unless
// Options.DisableFlip is set it is the normalised sum of the raw embeddings of
// the crop and of its horizontal mirror. Pixels are read as 8-bit RGB (alpha
// ignored) and scaled to (v-127.5)/128. Same input → bit-identical output.
func (e *Embedder) Embed(img image.Image) ([]float32, error) {
	return e.EmbedContext(context.Background(), img)
}

// EmbedContext is Embed stopping early when ctx is done: it checks ctx
// before each pass of the network (the crop, then its mirror; one pass is
// tens of milliseconds) and returns ctx.Err() when it is done.
func (e *Embedder) EmbedContext(ctx context.Context, img image.Image) ([]float32, error) {
	out := make([]float32, Dim)
	if err := e.EmbedIntoContext(ctx, out, img); err != nil {
		return nil, err
	}
	return out, nil
}

// EmbedInto is Embed writing into dst, which must hold at least Dim floats.
// Its own buffers are reused between calls; what a call still allocates is
// the Gorgonia tape machine's bookkeeping (see BenchmarkEmbed).
func (e *Embedder) EmbedInto(dst []float32, img image.Image) error {
	return e.EmbedIntoContext(context.Background(), dst, img)
}

// EmbedIntoContext is EmbedInto stopping early when ctx is done (see
// EmbedContext); dst is then left unspecified.
func (e *Embedder) EmbedIntoContext(ctx context.Context, dst []float32, img image.Image) error {
	if len(dst) < Dim {
		return fmt.Errorf("%w: %d floats, want %d", ErrShortBuffer, len(dst), Dim)
	}
	b := e.scratch.Get().(*buffers)
	defer e.scratch.Put(b)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.forward(b, img, false); err != nil {
		return err
	}
	if !e.flip {
		nn.Normalize(dst, b.raw[:])
		return nil
	}
	sum := &b.flip
	copy(sum[:], b.raw[:])
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.forward(b, img, true); err != nil {
		return err
	}
	for i, v := range b.raw {
		sum[i] += v
	}
	nn.Normalize(dst, sum[:])
	return nil
}

// forward runs the network on img (mirrored when mirror is set), leaving the
// raw embedding in b.raw.
func (e *Embedder) forward(b *buffers, img image.Image, mirror bool) error {
	if err := load(b.in, img, mirror); err != nil {
		return err
	}
	if err := e.net.RunHWC(b.out, b.in); err != nil {
		return fmt.Errorf("%w: %w", ErrInternal, err)
	}
	return nil
}

// load writes the preprocessed image (optionally mirrored) into in: RGB
// read by package sample (composited over black), (v-127.5)/128, H, W, C
// order.
func load(in []float32, img image.Image, mirror bool) error {
	if img == nil {
		return fmt.Errorf("%w: nil image", ErrInputSize)
	}
	b := img.Bounds()
	if b.Dx() != InputSize || b.Dy() != InputSize {
		return fmt.Errorf("%w: got %dx%d", ErrInputSize, b.Dx(), b.Dy())
	}
	s := sample.New(img)
	var row [3 * InputSize]uint8
	for y := range InputSize {
		s.RGBRow(b.Min.X, b.Min.Y+y, row[:])
		dst := in[y*InputSize*3 : (y+1)*InputSize*3]
		for x := range InputSize {
			o := 3 * x
			if mirror {
				o = 3 * (InputSize - 1 - x)
			}
			p := row[3*x : 3*x+3 : 3*x+3]
			dst[o] = (float32(p[0]) - 127.5) / 128
			dst[o+1] = (float32(p[1]) - 127.5) / 128
			dst[o+2] = (float32(p[2]) - 127.5) / 128
		}
	}
	return nil
}
