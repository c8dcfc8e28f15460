package runner

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/facematch/facematch/bench/internal/eval"
)

// Image status words of an embeddings file.
const (
	StatusOK     = "ok"
	StatusNoFace = "no_face"
	StatusFailed = "failed"
)

// ImageEmbedding is one line of an embeddings file: an image, whether a face
// was embedded, and the embedding (nil unless Status is StatusOK).
type ImageEmbedding struct {
	Path      string
	Status    string
	Embedding []float32
}

// WriteEmbeddings writes one line per distinct image of a Run:
// path<TAB>status<TAB>v1 v2 … vN, after a '#' header line. status is ok,
// no_face or failed; the vector (float32, shortest exact form) is empty
// unless status is ok. Such files are what bench/cmd/calibrate refits the
// score normalisation and the calibration from.
func (s *Scores) WriteEmbeddings(w io.Writer) error {
	if len(s.ImagePaths) != len(s.Embeddings) || len(s.ImagePaths) == 0 {
		return fmt.Errorf("%w: no per-image embeddings (scores read from a file?)", eval.ErrInput)
	}
	status := map[string]string{}
	for _, im := range s.NoFaceImages {
		status[im] = StatusNoFace
	}
	for _, f := range s.Failed {
		status[f.Path] = StatusFailed
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# path\tstatus\tembedding")
	for i, im := range s.ImagePaths {
		st := status[im]
		if st == "" {
			st = StatusOK
		}
		fmt.Fprintf(bw, "%s\t%s\t", im, st)
		if st == StatusOK {
			for j, v := range s.Embeddings[i] {
				if j > 0 {
					bw.WriteByte(' ')
				}
				bw.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadEmbeddings reads a file written by WriteEmbeddings. Every ok line must
// carry a vector of the same length.
func ReadEmbeddings(r io.Reader) ([]ImageEmbedding, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []ImageEmbedding
	dim, line := 0, 0
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: embeddings line %d: want 3 tab-separated fields, got %d", eval.ErrFormat, line, len(f))
		}
		e := ImageEmbedding{Path: f[0], Status: f[1]}
		switch e.Status {
		case StatusNoFace, StatusFailed:
		case StatusOK:
			vs := strings.Fields(f[2])
			if dim == 0 {
				dim = len(vs)
			}
			if len(vs) == 0 || len(vs) != dim {
				return nil, fmt.Errorf("%w: embeddings line %d: %d values, want %d", eval.ErrFormat, line, len(vs), dim)
			}
			e.Embedding = make([]float32, len(vs))
			for j, v := range vs {
				x, err := strconv.ParseFloat(v, 32)
				if err != nil {
					return nil, fmt.Errorf("%w: embeddings line %d: %v", eval.ErrFormat, line, err)
				}
				e.Embedding[j] = float32(x)
			}
		default:
			return nil, fmt.Errorf("%w: embeddings line %d: unknown status %q", eval.ErrFormat, line, e.Status)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: embeddings file holds no images", eval.ErrFormat)
	}
	return out, nil
}
