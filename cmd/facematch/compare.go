package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/facematch/facematch"
)

func init() {
	commands["compare"] = command{run: runCompare, summary: "compare the faces in two images (exit 0 match, 1 no match, 2 error)"}
}

const compareSynopsis = "compare [--threshold T] [--single-face | --best-face] [--liveness] [--json] [--annotate OUT.png] [--allow-private-urls] IMAGE1 IMAGE2 [IMAGE3 ... IMAGE10]"

type compareJSON struct {
	Match          bool    `json:"match"`
	Percentage     float64 `json:"percentage"` // rounded to two decimals; Match is decided on it
	PercentageText string  `json:"percentage_text"`
	Similarity     float64 `json:"similarity"`
	Threshold      float64 `json:"threshold"`
	// MultipleFaces: image2 holds a competing face (another face at least
	// half as wide as its largest).
	MultipleFaces bool          `json:"multiple_faces"`
	FacePolicy    string        `json:"face_policy"` // "largest" or "best" (--best-face)
	Model         string        `json:"model"`
	Faces         [2]imageJSON  `json:"faces"`
	Annotated     string        `json:"annotated,omitempty"`
	Liveness      *livenessJSON `json:"liveness,omitempty"`
}

type imageJSON struct {
	Source    string          `json:"source"`
	Width     int             `json:"width"`
	Height    int             `json:"height"`
	FaceCount int             `json:"face_count"`
	Count     int             `json:"count"` // same as face_count (kept for earlier readers)
	Used      int             `json:"used"`  // index into boxes/landmarks/scores of the compared face
	Boxes     []jsonBox       `json:"boxes"`
	Landmarks [][5][2]float64 `json:"landmarks"`
	Scores    []float32       `json:"scores"`
	// Orientation is the quarter turn of the compared face
	// (facematch.ImageFaces.Orientation): 90 means the image is stored
	// sideways and was turned 90 degrees counter-clockwise to compare it.
	Orientation int `json:"orientation"`
}

func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("compare", compareSynopsis, stderr)
	threshold := fs.Float64("threshold", facematch.DefaultThreshold, "match threshold, a fraction in [0.70, 0.95]")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	annotate := fs.String("annotate", "", "write a picture of the faces, the aligned crops and the verdict to `OUT.png` (or .jpg); written also when no face is found")
	singleFace := fs.Bool("single-face", false, "refuse image2 when it shows a competing face (another face at least half as wide as the largest): exit 2, code multiple_faces")
	bestFace := fs.Bool("best-face", false, "compare image1's face with every face of image2 and keep the best (finds a person in a group photo; NOT for identity checks: more faces, more false accepts)")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	live := fs.Bool("liveness", false, "also check that image2's face is live (exit 0 only for a live match)")
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flagErrHelp) {
		return exitMatch
	}
	if err != nil {
		return fail(fmt.Errorf("%w: %v", errUsage, err), jsonRequested(args), stdout, stderr)
	}
	if len(pos) > 2 { // one reference against several: comparemany.go
		return runCompareMany(pos, &facematch.CompareOptions{Threshold: *threshold, RequireSingleFace: *singleFace, BestFace: *bestFace, Liveness: *live}, *asJSON, *allowPrivate, stdout, stderr)
	}
	if len(pos) != 2 {
		fs.Usage()
		return fail(fmt.Errorf("%w: compare needs exactly two images, got %d", errUsage, len(pos)), *asJSON, stdout, stderr)
	}
	if err := facematch.CheckThreshold(*threshold); err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	if *singleFace && *bestFace {
		return fail(fmt.Errorf("%w: --single-face and --best-face exclude each other", errUsage), *asJSON, stdout, stderr)
	}
	if err := checkAnnotatePath(*annotate); err != nil {
		return fail(fmt.Errorf("%w: --annotate: %v", errUsage, err), *asJSON, stdout, stderr)
	}
	var srcs [2]facematch.Source
	for i, arg := range pos {
		s, err := source(arg)
		if err != nil {
			return fail(&facematch.ImageError{Image: i + 1, Err: err}, *asJSON, stdout, stderr)
		}
		srcs[i] = s
	}
	m, err := matcher(*allowPrivate)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	res, err := m.Compare(context.Background(), srcs[0], srcs[1], &facematch.CompareOptions{
		Threshold: *threshold, RequireSingleFace: *singleFace, BestFace: *bestFace, Liveness: *live})
	if err != nil {
		if *annotate != "" {
			// Still draw the two images, with what was found and why
			// there is no verdict.
			if aerr := writeFailedAnnotation(*annotate, m, srcs, err); aerr != nil {
				fmt.Fprintf(stderr, "facematch: --annotate: %v\n", aerr)
			} else if !*asJSON {
				fmt.Fprintf(stdout, "annotated image written to %s\n", *annotate)
			}
		}
		return fail(err, *asJSON, stdout, stderr)
	}
	if *annotate != "" {
		if err := writeAnnotation(*annotate, res); err != nil {
			return fail(fmt.Errorf("--annotate: %w", err), *asJSON, stdout, stderr)
		}
	}
	if *asJSON {
		writeJSON(stdout, compareResultJSON(res, pos, *bestFace, *annotate))
	} else {
		printCompareResult(stdout, res, pos, *bestFace, *annotate)
	}
	if res.Match && (res.Liveness == nil || res.Liveness.Live) {
		return exitMatch
	}
	return exitNoMatch
}

// compareResultJSON is the --json form of a comparison of the images pos.
func compareResultJSON(res *facematch.Result, pos []string, bestFace bool, annotate string) compareJSON {
	out := compareJSON{
		Match:          res.Match,
		Percentage:     res.Percentage,
		PercentageText: res.PercentageText(),
		Similarity:     res.Similarity,
		Threshold:      res.Threshold,
		MultipleFaces:  res.MultipleFaces,
		FacePolicy:     "largest",
		Model:          facematch.Model,
		Annotated:      annotate,
	}
	if bestFace {
		out.FacePolicy = "best"
	}
	for i, im := range res.Images {
		j := imageJSON{Source: pos[i], Width: im.Width, Height: im.Height, FaceCount: len(im.Faces), Count: len(im.Faces), Used: im.Used, Orientation: im.Orientation,
			Boxes: []jsonBox{}, Landmarks: [][5][2]float64{}, Scores: []float32{}}
		for _, f := range im.Faces {
			jf := toJSONFace(f)
			j.Boxes = append(j.Boxes, jf.Box)
			j.Landmarks = append(j.Landmarks, jf.Landmarks)
			j.Scores = append(j.Scores, jf.Score)
		}
		out.Faces[i] = j
	}
	if res.Liveness != nil {
		l := toLivenessJSON(res.Liveness)
		out.Liveness = &l
	}
	return out
}

// printCompareResult writes the text form of a comparison of the images
// pos.
func printCompareResult(stdout io.Writer, res *facematch.Result, pos []string, bestFace bool, annotate string) {
	verdict := "MATCH"
	if !res.Match {
		verdict = "NO MATCH"
	}
	fmt.Fprintf(stdout, "%s: %s (threshold %s, similarity %.4f)\n",
		verdict, res.PercentageText(), facematch.FormatPercentage(100*res.Threshold), res.Similarity)
	for i, im := range res.Images {
		fmt.Fprintf(stdout, "image%d (%s) %s: %dx%d, %d face(s), compared face %d: %s\n",
			i+1, imageRole[i], pos[i], im.Width, im.Height, len(im.Faces), im.Used+1, describeFace(im.Faces[im.Used]))
	}
	if res.MultipleFaces {
		fmt.Fprintf(stdout, "warning: image2 shows %d faces, and another person's face is at least half as large as the compared one; "+
			"an identity check expects the selfie to show one person (--single-face refuses such photos)\n", len(res.Images[1].Faces))
	}
	if bestFace {
		fmt.Fprintln(stdout, "note: --best-face compared image1 with every face of image2 and kept the best; each extra face is another chance of a false accept")
	}
	if annotate != "" {
		fmt.Fprintf(stdout, "annotated image written to %s\n", annotate)
	}
	if res.Liveness != nil {
		fmt.Fprintf(stdout, "image2 liveness %s\n", describeLiveness(res.Liveness))
	}
}

// imageRole names what image1 and image2 are in an identity check.
var imageRole = [2]string{"reference", "selfie"}

// jsonRequested reports whether --json appears among args (used to format
// errors from flag parsing itself).
func jsonRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "-json" || a == "--json=true" || a == "-json=true" {
			return true
		}
	}
	return false
}
