package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facematch/facematch/bench/internal/eval"
	"github.com/facematch/facematch/compare"
)

// synthetic builds 10 folds of 3 genuine pairs (cosine 0.9) and 3 impostor
// pairs (cosine 0.1). Image "f1/g0b.jpg" has no face, which spoils one
// genuine pair of fold 1, and "shared.jpg" appears in two pairs of every fold.
func synthetic() ([]eval.Pair, map[string][]float32) {
	at := func(c float64) []float32 { return []float32{float32(c), float32(math.Sqrt(1 - c*c))} }
	embs := map[string][]float32{"shared.jpg": {1, 0}}
	var pairs []eval.Pair
	for f := 1; f <= 10; f++ {
		for j := 0; j < 3; j++ {
			a, b := fmt.Sprintf("f%d/g%da.jpg", f, j), fmt.Sprintf("f%d/g%db.jpg", f, j)
			if j == 0 {
				a = "shared.jpg"
			}
			embs[a], embs[b] = []float32{1, 0}, at(0.9)
			pairs = append(pairs, eval.Pair{A: a, B: b, Same: true, Fold: f})
		}
		for j := 0; j < 3; j++ {
			a, b := fmt.Sprintf("f%d/i%da.jpg", f, j), fmt.Sprintf("f%d/i%db.jpg", f, j)
			if j == 0 {
				a = "shared.jpg"
			}
			embs[a], embs[b] = []float32{1, 0}, at(0.1)
			pairs = append(pairs, eval.Pair{A: a, B: b, Same: false, Fold: f})
		}
	}
	delete(embs, "f1/g0b.jpg")
	return pairs, embs
}

func fakeEmbed(embs map[string][]float32, calls *sync.Map) EmbedFunc {
	return func(_ context.Context, path string) ([]float32, error) {
		if calls != nil {
			n, _ := calls.LoadOrStore(path, new(int))
			*n.(*int)++ // each path is embedded by one goroutine only, or the count shows it
		}
		e, ok := embs[path]
		if !ok {
			return nil, fmt.Errorf("fake: %w", ErrNoFace)
		}
		return e, nil
	}
}

func TestRunAndEvaluate(t *testing.T) {
	pairs, embs := synthetic()
	var calls sync.Map
	var bar bytes.Buffer
	s, err := Run(context.Background(), pairs, fakeEmbed(embs, &calls), &Options{Similarity: compare.Cosine, Workers: 4, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	distinct := len(eval.Images(pairs))
	if s.Images != distinct || distinct != 1+10*(5+5) {
		t.Fatalf("%d images embedded, %d distinct", s.Images, distinct)
	}
	calls.Range(func(k, v any) bool {
		if *v.(*int) != 1 {
			t.Errorf("%s embedded %d times", k, *v.(*int))
		}
		return true
	})
	if !strings.Contains(bar.String(), fmt.Sprintf("%d/%d 100%%", distinct, distinct)) {
		t.Errorf("progress bar never reached 100%%: %q", bar.String())
	}
	for i, p := range pairs {
		want := 0.1
		switch {
		case p.B == "f1/g0b.jpg":
			want = NoFaceScore
		case p.Same:
			want = 0.9
		}
		if math.Abs(s.Cosine[i]-want) > 1e-6 || s.NoFace[i] != (want == NoFaceScore) {
			t.Fatalf("pair %d %+v: cosine %v no-face %v, want %v", i, p, s.Cosine[i], s.NoFace[i], want)
		}
	}
	if len(s.NoFaceImages) != 1 || s.NoFaceImages[0] != "f1/g0b.jpg" {
		t.Fatalf("no-face images %v", s.NoFaceImages)
	}

	r, err := Evaluate(s, compare.Calibration{A: 10, B: -5})
	if err != nil {
		t.Fatal(err)
	}
	wantAcc := (5.0/6 + 9) / 10
	wantStd := math.Sqrt((math.Pow(5.0/6-wantAcc, 2) + 9*math.Pow(1-wantAcc, 2)) / 10)
	if r.Pairs != 60 || r.Genuine != 30 || r.Impostor != 30 || r.Folds != 10 {
		t.Errorf("counts %+v", r)
	}
	if math.Abs(r.Accuracy-wantAcc) > 1e-12 || math.Abs(r.AccuracyStd-wantStd) > 1e-12 {
		t.Errorf("accuracy %v ± %v, want %v ± %v", r.Accuracy, r.AccuracyStd, wantAcc, wantStd)
	}
	if math.Abs(r.AUC-29.0/30) > 1e-12 {
		t.Errorf("AUC %v, want 29/30", r.AUC)
	}
	if math.Abs(r.TAR1e3-29.0/30) > 1e-12 || math.Abs(r.TAR1e2-29.0/30) > 1e-12 || math.Abs(r.Threshold1e3-0.9) > 1e-6 {
		t.Errorf("TAR %v / %v at %v, want 29/30 at 0.9", r.TAR1e2, r.TAR1e3, r.Threshold1e3)
	}
	if r.FacesFoundPairs != 59 || r.FacesFoundAccuracy != 1 || r.FacesFoundAccuracyStd != 0 {
		t.Errorf("faces-found diagnostic: %d pairs, %v ± %v, want 59 pairs at 1 ± 0", r.FacesFoundPairs, r.FacesFoundAccuracy, r.FacesFoundAccuracyStd)
	}
	if r.NoFace != 1 || r.NoFacePairs != 1 || r.NoFaceGenuine != 1 {
		t.Errorf("no-face %d images %d pairs %d genuine, want 1 1 1", r.NoFace, r.NoFacePairs, r.NoFaceGenuine)
	}
	// 0.9 → 98.2 %, 0.1 → 1.8 %: one false reject (the no-face pair) at every threshold.
	for _, c := range r.Calibration {
		if c.FalseAccepts != 0 || c.FalseRejects != 1 {
			t.Errorf("calibration row %+v, want 0 false accepts and 1 false reject", c)
		}
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"accuracy         98.33% ± 5.00", "TAR @ FAR 1e-3   96.67%", "no face          1 images", "f1/g0b.jpg"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report text lacks %q:\n%s", want, text.String())
		}
	}

	png := filepath.Join(t.TempDir(), "roc.png")
	if err := r.PlotROC(png, "synthetic", []*Report{r}, []string{"itself"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 1000 {
		t.Fatalf("ROC plot: %d bytes, %v", len(data), err)
	}
}

func TestRunDeterministic(t *testing.T) {
	pairs, embs := synthetic()
	a, err := Run(context.Background(), pairs, fakeEmbed(embs, nil), &Options{Similarity: compare.Cosine, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), pairs, fakeEmbed(embs, nil), &Options{Similarity: compare.Cosine, Workers: 7})
	if err != nil {
		t.Fatal(err)
	}
	var ta, tb bytes.Buffer
	a.WriteTSV(&ta)
	b.WriteTSV(&tb)
	if ta.String() != tb.String() {
		t.Fatal("1 and 7 workers give different scores")
	}
}

func TestRunErrors(t *testing.T) {
	pairs, embs := synthetic()
	boom := errors.New("disk on fire")
	embed := func(ctx context.Context, path string) ([]float32, error) {
		if path == "f3/i1b.jpg" {
			return nil, boom
		}
		return fakeEmbed(embs, nil)(ctx, path)
	}
	// A refused image is a failed image with its reason, not the end of the run.
	s, err := Run(context.Background(), pairs, embed, &Options{Similarity: compare.Cosine, Workers: 3})
	if err != nil {
		t.Fatalf("Run with a refused image: %v", err)
	}
	if len(s.Failed) != 1 || s.Failed[0].Path != "f3/i1b.jpg" || !strings.Contains(s.Failed[0].Reason, "disk on fire") {
		t.Fatalf("Failed = %+v, want f3/i1b.jpg with its reason", s.Failed)
	}
	for i, p := range s.Pairs {
		if p.B == "f3/i1b.jpg" && (!s.NoFace[i] || s.Cosine[i] != NoFaceScore) {
			t.Errorf("pair with the failed image: no_face %v cosine %v", s.NoFace[i], s.Cosine[i])
		}
	}
	r, err := Evaluate(s, compare.DefaultCalibration())
	if err != nil || r.Failed != 1 || r.NoFace != 1 || r.NoFacePairs != 2 {
		t.Fatalf("report: err %v failed %d no_face %d no_face_pairs %d, want 1, 1, 2", err, r.Failed, r.NoFace, r.NoFacePairs)
	}
	var txt bytes.Buffer
	if err := r.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "f3/i1b.jpg: disk on fire") {
		t.Errorf("text report lacks the failed image's reason (err %v):\n%s", err, txt.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, pairs, fakeEmbed(embs, nil), &Options{Similarity: compare.Cosine}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := Evaluate(&Scores{}, compare.DefaultCalibration()); !errors.Is(err, eval.ErrInput) {
		t.Fatalf("Evaluate(empty) err = %v", err)
	}
}

func TestScoresTSVRoundTrip(t *testing.T) {
	pairs, embs := synthetic()
	s, err := Run(context.Background(), pairs, fakeEmbed(embs, nil), &Options{Similarity: compare.Cosine})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteTSV(&buf); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(buf.String(), "\n", 3)[1]
	if want := "shared.jpg\tf1/g0b.jpg\t1\t1\t-1\t2"; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	back, err := ReadTSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pairs {
		if back.Pairs[i] != pairs[i] || back.Cosine[i] != s.Cosine[i] || back.NoFace[i] != s.NoFace[i] {
			t.Fatalf("pair %d: %+v %v %v, want %+v %v %v", i, back.Pairs[i], back.Cosine[i], back.NoFace[i], pairs[i], s.Cosine[i], s.NoFace[i])
		}
	}
	if back.Images != s.Images || len(back.NoFaceImages) != 1 || back.NoFaceImages[0] != "f1/g0b.jpg" {
		t.Errorf("read back %d images, no face %v; want %d and [f1/g0b.jpg]", back.Images, back.NoFaceImages, s.Images)
	}
	for _, bad := range []string{"", "a\tb\t1\t1\t0.5\n", "a\tb\t2\t1\t0.5\t0\n", "a\tb\t1\t1\tx\t0\n", "a\tb\t1\t1\t0.5\t4\n"} {
		if _, err := ReadTSV(strings.NewReader(bad)); !errors.Is(err, eval.ErrFormat) {
			t.Errorf("ReadTSV(%q) err = %v, want ErrFormat", bad, err)
		}
	}
}

func TestEmbeddingsRoundTripAndPool(t *testing.T) {
	pairs, embs := synthetic()
	s, err := Run(context.Background(), pairs, fakeEmbed(embs, nil), &Options{Similarity: compare.Cosine, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.WriteEmbeddings(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEmbeddings(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(eval.Images(pairs)) {
		t.Fatalf("%d images read, want %d", len(got), len(eval.Images(pairs)))
	}
	for _, e := range got {
		want, ok := embs[e.Path]
		switch {
		case !ok && e.Status != StatusNoFace:
			t.Errorf("%s: status %s, want no_face", e.Path, e.Status)
		case ok && (e.Status != StatusOK || fmt.Sprint(e.Embedding) != fmt.Sprint(want)):
			t.Errorf("%s: %s %v, want ok %v", e.Path, e.Status, e.Embedding, want)
		}
	}
	for _, bad := range []string{"", "a.jpg\tok\t1 2\nb.jpg\tok\t1\n", "a.jpg\tmaybe\t\n", "a.jpg\tok\tx\n", "a.jpg\tok\n"} {
		if _, err := ReadEmbeddings(strings.NewReader(bad)); !errors.Is(err, eval.ErrFormat) {
			t.Errorf("ReadEmbeddings(%q) err = %v, want ErrFormat", bad, err)
		}
	}
	if err := (&Scores{}).WriteEmbeddings(&buf); !errors.Is(err, eval.ErrInput) {
		t.Errorf("WriteEmbeddings without embeddings: err = %v", err)
	}

	p := Pool([]*Scores{s, s}, []string{"a", "a"})
	if len(p.Pairs) != 2*len(s.Pairs) || p.Images != 2*s.Images || len(p.NoFaceImages) != 2 {
		t.Fatalf("pooled: %d pairs, %d images, %d no-face images", len(p.Pairs), p.Images, len(p.NoFaceImages))
	}
	if len(eval.Folds(p.Pairs)) != 20 || p.Pairs[0].A[:2] != "a/" || p.Pairs[len(s.Pairs)].A[:2] != "1/" {
		t.Errorf("pooled folds %v, pairs %q and %q: want 20 folds, an a/ prefix, then 1/ for the repeated name", eval.Folds(p.Pairs), p.Pairs[0].A, p.Pairs[len(s.Pairs)].A)
	}
}
