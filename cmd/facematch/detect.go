package main

import (
	"context"
	"fmt"
	"io"
)

func init() {
	commands["detect"] = command{run: runDetect, summary: "list the faces in an image with box, score and 5 landmarks"}
}

const detectSynopsis = "detect [--json] [--annotate OUT.png] [--allow-private-urls] IMAGE"

type detectJSON struct {
	Source string     `json:"source"`
	Width  int        `json:"width"`
	Height int        `json:"height"`
	Count  int        `json:"count"`
	Faces  []jsonFace `json:"faces"`
	// Annotated is the --annotate file written, if any.
	Annotated string `json:"annotated,omitempty"`
}

func runDetect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("detect", detectSynopsis, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	annotate := fs.String("annotate", "", "write a picture of the image with its faces and landmarks to `OUT.png` (or .jpg), also when no face is found")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	arg, src, m, code, ok := oneImage(fs, args, "detect", asJSON, allowPrivate, stdout, stderr)
	if !ok {
		return code
	}
	if err := checkAnnotatePath(*annotate); err != nil {
		return fail(fmt.Errorf("%w: --annotate: %v", errUsage, err), *asJSON, stdout, stderr)
	}
	img, faces, err := m.Detect(context.Background(), src)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	if *annotate != "" {
		if err := writeDetectAnnotation(*annotate, arg, img, faces); err != nil {
			return fail(fmt.Errorf("--annotate: %w", err), *asJSON, stdout, stderr)
		}
	}
	b := img.Bounds()
	if *asJSON {
		out := detectJSON{Source: arg, Width: b.Dx(), Height: b.Dy(), Count: len(faces), Faces: []jsonFace{}, Annotated: *annotate}
		for _, f := range faces {
			out.Faces = append(out.Faces, toJSONFace(f))
		}
		writeJSON(stdout, out)
		return exitMatch
	}
	fmt.Fprintf(stdout, "%s: %dx%d, %d face(s)\n", arg, b.Dx(), b.Dy(), len(faces))
	for i, f := range faces {
		fmt.Fprintf(stdout, "face %d: %s\n", i+1, describeFace(f))
	}
	if *annotate != "" {
		fmt.Fprintf(stdout, "annotated image written to %s\n", *annotate)
	}
	return exitMatch
}
