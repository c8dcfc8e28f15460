package facematch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/facematch/facematch/compare"
	"github.com/facematch/facematch/embed"
	"github.com/facematch/facematch/weights"
)

// Template format. A template is TemplateSize bytes:
//
//	offset  size  content
//	0       4     magic "FMTP"
//	4       1     format version (TemplateVersion)
//	5       2     vector length, little-endian uint16 (embed.Dim = 192)
//	7       8     ModelID of the model that made it
//	15      4·Dim the L2-normalised embedding, float32 little-endian
//
// The vector is not quantised: it is stored exactly as the embedding model
// returns it, so comparing two templates gives the bit-identical score that
// Compare gives for the same two faces (quantising to 8 bits would save 576
// bytes per template but change scores in the third decimal; at 783 bytes a
// million templates is 783 MB, which the galleries hold comfortably).
const (
	// TemplateVersion is the version of the template layout above.
	TemplateVersion = 1
	// TemplateSize is the length of an encoded template in bytes.
	TemplateSize = templateHeader + 4*embed.Dim

	templateMagic  = "FMTP"
	templateHeader = 4 + 1 + 2 + len(ModelID{})
)

var (
	// ErrTemplateFormat: the bytes are not a facematch template (wrong
	// magic, length or vector), or one of a format version this build does
	// not know.
	ErrTemplateFormat = errors.New("not a valid face template")
	// ErrTemplateModel: the template was made by another embedding model (or
	// the same model with other embedding options) than the one it is
	// compared with. Such scores would be meaningless, so they are refused.
	ErrTemplateModel = errors.New("face template from another model")
)

// ModelID names an embedding model and the options that change its output
// (flip test-time augmentation): the first 8 bytes of SHA-256 over the
// model file's SHA-256 and the options. Templates carry it, so a template is
// only ever compared with templates of the same model.
type ModelID [8]byte

// String returns the ModelID in hexadecimal (16 digits).
func (id ModelID) String() string { return hex.EncodeToString(id[:]) }

// ParseModelID parses the hexadecimal form String returns.
func ParseModelID(s string) (ModelID, error) {
	var id ModelID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%w: model id %q is not %d hexadecimal digits", ErrTemplateFormat, s, 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

// modelID is the ModelID of the bundled model with the given options.
func modelID(o *embed.Options) ModelID {
	flip := byte(1)
	if o != nil && o.DisableFlip {
		flip = 0
	}
	h := sha256.New()
	h.Write([]byte("facematch template model\x00"))
	h.Write([]byte(weights.MobileFaceNetSHA256))
	h.Write([]byte{0, flip})
	// Template vectors are normalised with the default normaliser (compare.Normalize): new
	// statistics make old templates another model's.
	cal := sha256.Sum256(weights.Calibration())
	h.Write(cal[:])
	var id ModelID
	copy(id[:], h.Sum(nil))
	return id
}

// Template is a face template: the embedding of one face and the model that
// made it. Templates are what a gallery stores instead of photographs; the
// photograph cannot be recovered from one, but it is still biometric data
// (it identifies its owner among others), so keep it as carefully.
type Template struct {
	// Model is the model that made Vector.
	Model ModelID
	// Vector is the face's embedding (embed.Dim floats) mapped by
	// compare.Normalize, unit length: the cosine of two templates'
	// vectors is compare.Similarity of the two embeddings, the score Compare
	// calibrates.
	Vector []float32
}

// Template returns the template of the largest usable face in src (the face
// Embed uses, and the one Compare uses for image1). No face is ErrNoFace.
func (m *Matcher) Template(ctx context.Context, src Source) (*Template, error) {
	vec, _, err := m.Embed(ctx, src)
	if err != nil {
		return nil, err
	}
	return &Template{Model: m.model, Vector: compare.Normalize(nil, vec)}, nil
}

// ModelID returns the ModelID of the Matcher's embedding model and options:
// the model its templates carry.
func (m *Matcher) ModelID() ModelID { return m.model }

// MarshalBinary encodes t in the layout described at TemplateVersion.
func (t *Template) MarshalBinary() ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	b := make([]byte, TemplateSize)
	copy(b, templateMagic)
	b[4] = TemplateVersion
	binary.LittleEndian.PutUint16(b[5:], embed.Dim)
	copy(b[7:], t.Model[:])
	for i, v := range t.Vector {
		binary.LittleEndian.PutUint32(b[templateHeader+4*i:], math.Float32bits(v))
	}
	return b, nil
}

// UnmarshalBinary decodes a template encoded by MarshalBinary; errors wrap
// ErrTemplateFormat.
func (t *Template) UnmarshalBinary(b []byte) error {
	if len(b) < templateHeader || string(b[:4]) != templateMagic {
		return fmt.Errorf("%w: no template header", ErrTemplateFormat)
	}
	if b[4] != TemplateVersion {
		return fmt.Errorf("%w: format version %d, this build reads version %d", ErrTemplateFormat, b[4], TemplateVersion)
	}
	if n := binary.LittleEndian.Uint16(b[5:]); n != embed.Dim {
		return fmt.Errorf("%w: %d values, want %d", ErrTemplateFormat, n, embed.Dim)
	}
	if len(b) != TemplateSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrTemplateFormat, len(b), TemplateSize)
	}
	var nt Template
	copy(nt.Model[:], b[7:templateHeader])
	nt.Vector = make([]float32, embed.Dim)
	for i := range nt.Vector {
		nt.Vector[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[templateHeader+4*i:]))
	}
	if err := nt.check(); err != nil {
		return err
	}
	*t = nt
	return nil
}

// ParseTemplate decodes a template from MarshalBinary's bytes or from the
// base64 (standard encoding) of them, the form the CLI prints and the
// service accepts. Errors wrap ErrTemplateFormat.
func ParseTemplate(b []byte) (*Template, error) {
	t := new(Template)
	if len(b) >= 4 && string(b[:4]) == templateMagic {
		return t, t.UnmarshalBinary(b)
	}
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: neither template bytes nor base64", ErrTemplateFormat)
	}
	if err := t.UnmarshalBinary(raw); err != nil {
		return nil, err
	}
	return t, nil
}

// String returns the base64 of the encoded template ("" if t is invalid).
func (t *Template) String() string {
	b, err := t.MarshalBinary()
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// templateJSON is the JSON form: the model, the version and the base64
// template, so a reader sees which model made it without decoding it.
type templateJSON struct {
	Model    string `json:"model"`
	Version  int    `json:"version"`
	Template string `json:"template"`
}

// MarshalJSON encodes t as {"model": "…", "version": 1, "template": "base64"}.
func (t *Template) MarshalJSON() ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return json.Marshal(templateJSON{Model: t.Model.String(), Version: TemplateVersion, Template: t.String()})
}

// UnmarshalJSON decodes MarshalJSON's form (the "template" field is
// authoritative; "model" and "version" must agree with it).
func (t *Template) UnmarshalJSON(b []byte) error {
	var j templateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrTemplateFormat, err)
	}
	nt, err := ParseTemplate([]byte(j.Template))
	if err != nil {
		return err
	}
	if (j.Model != "" && j.Model != nt.Model.String()) || (j.Version != 0 && j.Version != TemplateVersion) {
		return fmt.Errorf("%w: model %q / version %d disagree with the template", ErrTemplateFormat, j.Model, j.Version)
	}
	*t = *nt
	return nil
}

// check reports whether t holds a usable vector: embed.Dim finite values
// with a norm near 1 (the embedding is L2-normalised).
func (t *Template) check() error {
	if t == nil {
		return fmt.Errorf("%w: nil template", ErrTemplateFormat)
	}
	if len(t.Vector) != embed.Dim {
		return fmt.Errorf("%w: %d values, want %d", ErrTemplateFormat, len(t.Vector), embed.Dim)
	}
	var ss float64
	for _, v := range t.Vector {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%w: non-finite value", ErrTemplateFormat)
		}
		ss += f * f
	}
	if math.Abs(ss-1) > 1e-3 {
		return fmt.Errorf("%w: vector norm² %.4g, want 1", ErrTemplateFormat, ss)
	}
	return nil
}

// CheckTemplate reports whether t is a well-formed template of model: a
// malformed one wraps ErrTemplateFormat, another model's ErrTemplateModel.
func CheckTemplate(t *Template, model ModelID) error {
	if err := t.check(); err != nil {
		return err
	}
	if t.Model != model {
		return fmt.Errorf("%w: template model %s, want %s", ErrTemplateModel, t.Model, model)
	}
	return nil
}

// TemplateResult is the outcome of CompareTemplates.
type TemplateResult struct {
	// Match is the verdict, decided on the rounded Percentage as Compare
	// decides (compare.Meets).
	Match bool
	// Percentage is the calibrated match confidence in [0, 100], the same
	// as Compare gives for the two faces the templates were made from.
	Percentage float64
	// Similarity is the cosine similarity of the two templates.
	Similarity float64
	// Threshold is the threshold that was applied.
	Threshold float64
}

// PercentageText formats Percentage like the KYC API: "95.00%".
func (r *TemplateResult) PercentageText() string { return FormatPercentage(r.Percentage) }

// CompareTemplates compares two templates with the Matcher's calibration:
// the percentage is the one Compare gives for the same two faces. Both must
// come from the Matcher's model (ErrTemplateModel otherwise); an invalid
// threshold is ErrInvalidThreshold.
func (m *Matcher) CompareTemplates(a, b *Template, opts *CompareOptions) (*TemplateResult, error) {
	_, threshold, err := resolveOptions(opts)
	if err != nil {
		return nil, err
	}
	for _, t := range [2]*Template{a, b} {
		if err := CheckTemplate(t, m.model); err != nil {
			return nil, err
		}
	}
	sim := compare.Cosine(a.Vector, b.Vector)
	p := compare.RoundPercentage(m.cal.Percentage(sim))
	return &TemplateResult{Match: compare.Meets(p, threshold), Percentage: p, Similarity: sim, Threshold: threshold}, nil
}
