package eval

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/facematch/facematch/internal/sharedtest"
)

func TestParseLFW(t *testing.T) {
	in := "2\t1\nAl\t1\t2\nAl\t1\tBo\t3\nCy\t2\t10\nDe 4 Ed 12\n"
	got, err := ParseLFW(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Pair{
		{A: "Al/Al_0001.jpg", B: "Al/Al_0002.jpg", Same: true, Fold: 1},
		{A: "Al/Al_0001.jpg", B: "Bo/Bo_0003.jpg", Same: false, Fold: 1},
		{A: "Cy/Cy_0002.jpg", B: "Cy/Cy_0010.jpg", Same: true, Fold: 2},
		{A: "De/De_0004.jpg", B: "Ed/Ed_0012.jpg", Same: false, Fold: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestParseLFWErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"empty", "", 0},
		{"header fields", "10\n", 1},
		{"header not numbers", "a b\n", 1},
		{"header zero", "0 3\n", 1},
		{"too few lines", "1 2\nA 1 2\nA 1 3\nA 1 B 1\n", 0},
		{"different in same block", "1 1\nA 1 B 2\nA 1 2\n", 2},
		{"same in different block", "1 1\nA 1 2\nA 1 3\n", 3},
		{"bad number", "1 1\nA x 2\nA 1 B 2\n", 2},
		{"zero image number", "1 1\nA 1 2\nA 1 B 0\n", 3},
		{"field count", "1 1\nA 1\nA 1 B 2\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLFW(strings.NewReader(tc.in))
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != tc.line {
				t.Fatalf("err = %v, want line %d", err, tc.line)
			}
		})
	}
}

func TestParseTSV(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Pair
	}{
		{"with folds", "a.jpg\tb.jpg\t1\t3\n\n# comment\nc d.png\te.png\t0\t7\n", []Pair{
			{A: "a.jpg", B: "b.jpg", Same: true, Fold: 3},
			{A: "c d.png", B: "e.png", Same: false, Fold: 7},
		}},
		{"header, no folds", "path1\tpath2\tsame\nx/1.jpg\tx/2.jpg\t1\ny.jpg\tz.jpg\t0\r\n", []Pair{
			{A: "x/1.jpg", B: "x/2.jpg", Same: true, Fold: 1},
			{A: "y.jpg", B: "z.jpg", Same: false, Fold: 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTSV(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseTSVFoldsRoundRobin(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 25; i++ {
		b.WriteString("a\tb\t1\n")
	}
	got, err := ParseTSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		if p.Fold != i%10+1 {
			t.Fatalf("pair %d fold %d, want %d", i, p.Fold, i%10+1)
		}
	}
}

func TestParseTSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
	}{
		{"empty", "\n# nothing\n", 0},
		{"fields", "a\tb\n", 1},
		{"spaces not tabs", "a b 1\n", 1},
		{"same value", "a\tb\tyes\n", 1},
		{"fold value", "a\tb\t1\tx\n", 1},
		{"mixed fold column", "a\tb\t1\t1\nc\td\t0\n", 2},
		{"empty path", "\tb\t1\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTSV(strings.NewReader(tc.in))
			var pe *ParseError
			if !errors.Is(err, ErrFormat) || !errors.As(err, &pe) || pe.Line != tc.line {
				t.Fatalf("err = %v, want ParseError at line %d", err, tc.line)
			}
		})
	}
}

func TestParseDetectsFormat(t *testing.T) {
	lfw, err := Parse([]byte("1 1\nA 1 2\nA 1 B 2\n"))
	if err != nil || len(lfw) != 2 || lfw[0].A != "A/A_0001.jpg" {
		t.Fatalf("LFW: %+v, %v", lfw, err)
	}
	tsv, err := Parse([]byte("A/1.jpg\tA/2.jpg\t1\t1\n"))
	if err != nil || len(tsv) != 1 || tsv[0].A != "A/1.jpg" {
		t.Fatalf("TSV: %+v, %v", tsv, err)
	}
}

func TestFoldHelpers(t *testing.T) {
	pairs := []Pair{
		{A: "a", B: "b", Fold: 3}, {A: "b", B: "c", Fold: 1}, {A: "a", B: "d", Fold: 2}, {A: "e", B: "a", Fold: 1},
	}
	if got := Folds(pairs); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Errorf("Folds = %v", got)
	}
	if got := FirstFolds(pairs, 1); !reflect.DeepEqual(got, []Pair{pairs[1], pairs[3]}) {
		t.Errorf("FirstFolds(1) = %v", got)
	}
	if got := FirstFolds(pairs, 2); len(got) != 3 {
		t.Errorf("FirstFolds(2) = %v", got)
	}
	if got := FirstFolds(pairs, 0); len(got) != 4 {
		t.Errorf("FirstFolds(0) = %v", got)
	}
	if got := Images(pairs); !reflect.DeepEqual(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("Images = %v", got)
	}
}

// TestRealLFWPairs parses the real pairs.txt: 10 folds of 300 + 300 pairs over
// 7701 distinct images, all of which exist.
func TestRealLFWPairs(t *testing.T) {
	dir := sharedtest.Path(t, "datasets", "lfw")
	pairs, err := ReadPairs(filepath.Join(dir, "pairs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 6000 {
		t.Fatalf("%d pairs, want 6000", len(pairs))
	}
	perFold := map[int][2]int{}
	for _, p := range pairs {
		c := perFold[p.Fold]
		if p.Same {
			c[0]++
		} else {
			c[1]++
		}
		perFold[p.Fold] = c
	}
	for f := 1; f <= 10; f++ {
		if perFold[f] != [2]int{300, 300} {
			t.Errorf("fold %d: %v same/different, want 300/300", f, perFold[f])
		}
	}
	want0 := Pair{A: "Abel_Pacheco/Abel_Pacheco_0001.jpg", B: "Abel_Pacheco/Abel_Pacheco_0004.jpg", Same: true, Fold: 1}
	if pairs[0] != want0 {
		t.Errorf("first pair %+v, want %+v", pairs[0], want0)
	}
	imgs := Images(pairs)
	if len(imgs) != 7701 {
		t.Errorf("%d distinct images, want 7701", len(imgs))
	}
	if testing.Short() {
		return
	}
	for _, im := range imgs {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(im))); err != nil {
			t.Fatal(err)
		}
	}
}
