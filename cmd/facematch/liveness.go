package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/liveness"
)

func init() {
	commands["liveness"] = command{run: runLiveness, summary: "tell a live face from a printed photo or a screen (exit 0 live, 1 attack, 2 error)"}
}

const livenessSynopsis = "liveness [--threshold T] [--json] [--allow-private-urls] IMAGE"

// livenessJSON is the output of "facematch liveness --json" and the
// "liveness" member of "facematch compare --liveness --json".
type livenessJSON struct {
	Source    string      `json:"source,omitempty"`
	Live      bool        `json:"live"`
	Score     float64     `json:"score"`
	Threshold float64     `json:"threshold"`
	Face      jsonFace    `json:"face"`
	Models    []modelJSON `json:"models"`
}

type modelJSON struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
	Crop  jsonBox `json:"crop"`
}

func toLivenessJSON(r *facematch.LivenessResult) livenessJSON {
	j := livenessJSON{Live: r.Live, Score: r.Score, Threshold: r.Threshold, Face: toJSONFace(r.Face), Models: []modelJSON{}}
	for _, m := range r.Models {
		j.Models = append(j.Models, modelJSON{Name: m.Name, Score: m.Live,
			Crop: jsonBox{X: m.Crop.Min.X, Y: m.Crop.Min.Y, Width: m.Crop.Dx(), Height: m.Crop.Dy()}})
	}
	return j
}

func describeLiveness(r *facematch.LivenessResult) string {
	verdict := "LIVE"
	if !r.Live {
		verdict = "ATTACK"
	}
	return fmt.Sprintf("%s: score %.4f (threshold %.4f; %s %.4f, %s %.4f)", verdict, r.Score, r.Threshold,
		r.Models[0].Name, r.Models[0].Live, r.Models[1].Name, r.Models[1].Live)
}

func runLiveness(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("liveness", livenessSynopsis, stderr)
	threshold := fs.Float64("threshold", liveness.DefaultThreshold, "live/attack cut on the score, in (0, 1]")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	arg, src, m, code, ok := oneImage(fs, args, "liveness", asJSON, allowPrivate, stdout, stderr)
	if !ok {
		return code
	}
	if *threshold != liveness.DefaultThreshold {
		var err error
		m, err = facematch.New(&facematch.Options{AllowPrivateURLs: *allowPrivate, Liveness: &liveness.Options{Threshold: *threshold}})
		if err != nil {
			if errors.Is(err, facematch.ErrInvalidOptions) {
				err = fmt.Errorf("%w: --threshold %v must be in (0, 1]", errUsage, *threshold)
			}
			return fail(err, *asJSON, stdout, stderr)
		}
	}
	r, err := m.Liveness(context.Background(), src)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	if *asJSON {
		j := toLivenessJSON(r)
		j.Source = arg
		writeJSON(stdout, j)
	} else {
		fmt.Fprintf(stdout, "%s\n%s: face %s\n", describeLiveness(r), arg, describeFace(r.Face))
	}
	if r.Live {
		return exitMatch
	}
	return exitNoMatch
}
