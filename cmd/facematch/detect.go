package main

import (
	"context"
	"fmt"
	"io"
)

func init() {
	commands["detect"] = command{run: runDetect, summary: "list the faces in an image with box, score and 5 landmarks"}
}

const detectSynopsis = "detect [--json] [--allow-private-urls] IMAGE"

type detectJSON struct {
	Source string     `json:"source"`
	Width  int        `json:"width"`
	Height int        `json:"height"`
	Count  int        `json:"count"`
	Faces  []jsonFace `json:"faces"`
}

func runDetect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("detect", detectSynopsis, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	arg, src, m, code, ok := oneImage(fs, args, "detect", asJSON, allowPrivate, stdout, stderr)
	if !ok {
		return code
	}
	img, faces, err := m.Detect(context.Background(), src)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	b := img.Bounds()
	if *asJSON {
		out := detectJSON{Source: arg, Width: b.Dx(), Height: b.Dy(), Count: len(faces), Faces: []jsonFace{}}
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
	return exitMatch
}
