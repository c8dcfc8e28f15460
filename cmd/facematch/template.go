package main

import (
	"context"
	"fmt"
	"io"

	"github.com/facematch/facematch"
)

func init() {
	commands["template"] = command{run: runTemplate, summary: "print the versioned face template of the largest face (base64)"}
}

const templateSynopsis = "template [--json] [--allow-private-urls] IMAGE"

type templateOut struct {
	Model    string   `json:"model"`    // ModelID of the embedding model
	Version  int      `json:"version"`  // template format version
	Template string   `json:"template"` // base64 of the template bytes
	Face     jsonFace `json:"face"`     // the face the template was made from
}

func runTemplate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("template", templateSynopsis, stderr)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	allowPrivate := fs.Bool("allow-private-urls", false, "let URL images reach loopback/private/link-local addresses")
	_, src, m, code, ok := oneImage(fs, args, "template", asJSON, allowPrivate, stdout, stderr)
	if !ok {
		return code
	}
	vec, face, err := m.Embed(context.Background(), src)
	if err != nil {
		return fail(err, *asJSON, stdout, stderr)
	}
	t := &facematch.Template{Model: m.ModelID(), Vector: vec}
	if *asJSON {
		writeJSON(stdout, templateOut{Model: t.Model.String(), Version: facematch.TemplateVersion, Template: t.String(), Face: toJSONFace(face)})
		return exitMatch
	}
	fmt.Fprintln(stdout, t.String())
	return exitMatch
}
