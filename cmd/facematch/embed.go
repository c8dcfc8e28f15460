package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/facematch/facematch"
	"github.com/facematch/facematch/embed"
)

func init() {
	commands["embed"] = command{run: runEmbed, summary: "print the face template (embedding) of the largest face"}
}

const embedSynopsis = "embed [--aligned] [--json] [--allow-private-urls] IMAGE"

type embedJSON struct {
	Embedding []float32 `json:"embedding"`
	Dim       int       `json:"dim"`
	Model     string    `json:"model"`
	Aligned   bool      `json:"aligned"`
	Face      *jsonFace `json:"face,omitempty"` // the embedded face (absent with --aligned)
}

func runEmbed(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("embed", embedSynopsis, stderr)
	aligned := fs.Bool("aligned", false, fmt.Sprintf("IMAGE is already an aligned %dx%d face crop: skip detection", embed.InputSize, embed.InputSize))
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	_, src, m, code, ok := oneImage(fs, args, "embed", asJSON, allowPrivate, stdout, stderr)
	if !ok {
		return code
	}
	out := embedJSON{Dim: embed.Dim, Model: facematch.Model, Aligned: *aligned}
	var err error
	if *aligned {
		out.Embedding, err = m.EmbedAligned(context.Background(), src)
	} else {
		var f jsonFace
		vec, face, e := m.Embed(context.Background(), src)
		out.Embedding, err, f = vec, e, toJSONFace(face)
		out.Face = &f
	}
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	if *asJSON {
		writeJSON(stdout, out)
		return exitMatch
	}
	parts := make([]string, len(out.Embedding))
	for i, v := range out.Embedding {
		parts[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	fmt.Fprintln(stdout, strings.Join(parts, " "))
	return exitMatch
}
