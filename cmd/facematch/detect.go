package main

import (
	"context"
	"errors"
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
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flagErrHelp) {
		return exitMatch
	}
	if err != nil {
		return fail(fmt.Errorf("%w: %v", errUsage, err), jsonRequested(args), stdout, stderr)
	}
	if len(pos) != 1 {
		fs.Usage()
		return fail(fmt.Errorf("%w: detect needs exactly one image, got %d", errUsage, len(pos)), *asJSON, stdout, stderr)
	}
	src, err := source(pos[0])
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	m, err := matcher(*allowPrivate)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	img, faces, err := m.Detect(context.Background(), src)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	b := img.Bounds()
	if *asJSON {
		out := detectJSON{Source: pos[0], Width: b.Dx(), Height: b.Dy(), Count: len(faces), Faces: []jsonFace{}}
		for _, f := range faces {
			out.Faces = append(out.Faces, toJSONFace(f))
		}
		writeJSON(stdout, out)
		return exitMatch
	}
	fmt.Fprintf(stdout, "%s: %dx%d, %d face(s)\n", pos[0], b.Dx(), b.Dy(), len(faces))
	for i, f := range faces {
		fmt.Fprintf(stdout, "face %d: %s\n", i+1, describeFace(f))
	}
	return exitMatch
}
