package eval

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Pair is one labelled pair of images. A and B are slash-separated paths
// relative to the dataset folder.
type Pair struct {
	A, B string
	Same bool // true: the two images show the same person
	Fold int  // cross-validation fold, from 1 in LFW
}

// ErrFormat is wrapped by every error about a malformed pair list.
var ErrFormat = errors.New("eval: malformed pair list")

// ParseError reports a malformed line of a pair list. errors.Is(err,
// ErrFormat) holds for it.
type ParseError struct {
	Line int // 1-based line number, 0 when the problem is not one line
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "eval: pair list: " + e.Msg
	}
	return fmt.Sprintf("eval: pair list line %d: %s", e.Line, e.Msg)
}

// Unwrap returns ErrFormat.
func (e *ParseError) Unwrap() error { return ErrFormat }

// LFWPath returns the path of image n of person name in the LFW layout:
// name/name_%04d.jpg.
func LFWPath(name string, n int) string {
	return fmt.Sprintf("%s/%s_%04d.jpg", name, name, n)
}

// lines splits r into lines with their numbers, keeping empty ones.
func lines(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []string
	for sc.Scan() {
		out = append(out, strings.TrimRight(sc.Text(), "\r"))
	}
	return out, sc.Err()
}

func atoiPositive(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// ParseLFW reads LFW's pairs.txt format: a header "folds perFold", then for
// each fold perFold same-person lines "Name n1 n2" and perFold
// different-person lines "Name1 n1 Name2 n2" (fields separated by tabs or
// spaces). Fold numbers start at 1. The line count must match the header.
func ParseLFW(r io.Reader) ([]Pair, error) {
	ls, err := lines(r)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, &ParseError{Msg: "empty input"}
	}
	h := strings.Fields(ls[0])
	if len(h) != 2 {
		return nil, &ParseError{Line: 1, Msg: "header must be \"folds pairsPerFold\""}
	}
	folds, ok1 := atoiPositive(h[0])
	per, ok2 := atoiPositive(h[1])
	if !ok1 || !ok2 {
		return nil, &ParseError{Line: 1, Msg: "header must hold two positive integers"}
	}
	body := ls[1:]
	for len(body) > 0 && strings.TrimSpace(body[len(body)-1]) == "" {
		body = body[:len(body)-1]
	}
	if want := folds * per * 2; len(body) != want {
		return nil, &ParseError{Msg: fmt.Sprintf("header announces %d folds x %d x 2 = %d pairs, found %d lines", folds, per, want, len(body))}
	}
	pairs := make([]Pair, 0, len(body))
	for i, l := range body {
		line := i + 2
		f := strings.Fields(l)
		fold := i/(2*per) + 1
		sameBlock := i%(2*per) < per
		switch {
		case len(f) == 3 && sameBlock:
			n1, ok1 := atoiPositive(f[1])
			n2, ok2 := atoiPositive(f[2])
			if !ok1 || !ok2 {
				return nil, &ParseError{Line: line, Msg: "image numbers must be positive integers"}
			}
			pairs = append(pairs, Pair{A: LFWPath(f[0], n1), B: LFWPath(f[0], n2), Same: true, Fold: fold})
		case len(f) == 4 && !sameBlock:
			n1, ok1 := atoiPositive(f[1])
			n2, ok2 := atoiPositive(f[3])
			if !ok1 || !ok2 {
				return nil, &ParseError{Line: line, Msg: "image numbers must be positive integers"}
			}
			pairs = append(pairs, Pair{A: LFWPath(f[0], n1), B: LFWPath(f[2], n2), Same: false, Fold: fold})
		case len(f) == 3:
			return nil, &ParseError{Line: line, Msg: "same-person line where a different-person line (Name1 n1 Name2 n2) belongs"}
		case len(f) == 4:
			return nil, &ParseError{Line: line, Msg: "different-person line where a same-person line (Name n1 n2) belongs"}
		default:
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("want 3 or 4 fields, got %d", len(f))}
		}
	}
	return pairs, nil
}

// ParseTSV reads the tab-separated pair format
// path1<TAB>path2<TAB>same(0|1)[<TAB>fold]. Blank lines and lines starting
// with '#' are skipped, and so is a first line whose third field is "same"
// (a header). Without a fold column pair i goes to fold i%10+1; a file either
// gives the fold on every line or on none.
func ParseTSV(r io.Reader) ([]Pair, error) {
	ls, err := lines(r)
	if err != nil {
		return nil, err
	}
	var pairs []Pair
	withFold := -1 // unknown
	for i, l := range ls {
		line := i + 1
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 3 && len(f) != 4 {
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("want 3 or 4 tab-separated fields, got %d", len(f))}
		}
		if len(pairs) == 0 && withFold == -1 && strings.EqualFold(f[2], "same") {
			continue // header
		}
		if f[0] == "" || f[1] == "" {
			return nil, &ParseError{Line: line, Msg: "empty path"}
		}
		p := Pair{A: f[0], B: f[1]}
		switch f[2] {
		case "1":
			p.Same = true
		case "0":
		default:
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("same must be 0 or 1, got %q", f[2])}
		}
		has := 0
		if len(f) == 4 {
			has = 1
			n, err := strconv.Atoi(f[3])
			if err != nil {
				return nil, &ParseError{Line: line, Msg: fmt.Sprintf("fold must be an integer, got %q", f[3])}
			}
			p.Fold = n
		}
		if withFold == -1 {
			withFold = has
		} else if withFold != has {
			return nil, &ParseError{Line: line, Msg: "the fold column must be on every line or on none"}
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 {
		return nil, &ParseError{Msg: "no pairs"}
	}
	if withFold == 0 {
		for i := range pairs {
			pairs[i].Fold = i%10 + 1
		}
	}
	return pairs, nil
}

// isLFWHeader reports whether the first non-blank line of data is a pairs.txt
// header: two integers.
func isLFWHeader(data []byte) bool {
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 2 {
			return false
		}
		_, ok1 := atoiPositive(f[0])
		_, ok2 := atoiPositive(f[1])
		return ok1 && ok2
	}
	return false
}

// Parse reads either format, chosen from the first line: two integers mean
// LFW's pairs.txt, anything else the TSV format.
func Parse(data []byte) ([]Pair, error) {
	if isLFWHeader(data) {
		return ParseLFW(bytes.NewReader(data))
	}
	return ParseTSV(bytes.NewReader(data))
}

// ReadPairs reads and parses the pair list in file name (see Parse).
func ReadPairs(name string) ([]Pair, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pairs, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return pairs, nil
}

// Folds returns the distinct fold numbers of pairs in increasing order.
func Folds(pairs []Pair) []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range pairs {
		if !seen[p.Fold] {
			seen[p.Fold] = true
			out = append(out, p.Fold)
		}
	}
	sort.Ints(out)
	return out
}

// FirstFolds keeps the pairs of the n lowest-numbered folds, in their order.
// n <= 0 or n >= the number of folds returns pairs unchanged.
func FirstFolds(pairs []Pair, n int) []Pair {
	fs := Folds(pairs)
	if n <= 0 || n >= len(fs) {
		return pairs
	}
	keep := map[int]bool{}
	for _, f := range fs[:n] {
		keep[f] = true
	}
	var out []Pair
	for _, p := range pairs {
		if keep[p.Fold] {
			out = append(out, p)
		}
	}
	return out
}

// Images returns the distinct image paths of pairs in order of first use.
func Images(pairs []Pair) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pairs {
		for _, s := range [2]string{p.A, p.B} {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}
