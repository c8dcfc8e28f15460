// Command facematch compares faces in two images, prints face templates and
// detections, and (with the serve subcommand) runs the HTTP service.
//
// Usage:
//
//	facematch compare [--threshold T] [--single-face | --best-face] [--json] [--annotate OUT.png] IMAGE1 IMAGE2
//	facematch embed [--aligned] [--json] IMAGE
//	facematch detect [--json] [--annotate OUT.png] IMAGE
//	facematch liveness [--threshold T] [--json] IMAGE
//	facematch template [--json] IMAGE
//	facematch gallery enroll|search|remove|count --gallery FILE|postgres://... [flags] [arguments]
//	facematch serve [flags]
//	facematch version [--json]     (also: facematch --version)
//
// compare uses the largest face of each image: image1 is the reference
// (the document photo), image2 the selfie. When image2 shows another face
// at least half as wide as its largest, the output warns (JSON:
// "multiple_faces": true); --single-face makes that an error (exit 2, code
// multiple_faces). --best-face searches all of image2's faces instead —
// for group photos, not identity checks.
//
// Each IMAGE is a file path or an http(s) URL. Exit status: 0 match (or
// success for embed/detect), 1 no match, 2 error.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand. Each subcommand file registers itself in
// commands from an init function, so adding a subcommand never edits this
// file:
//
//	func init() { commands["serve"] = command{run: runServe, summary: "..."} }
//
// run gets the arguments after the subcommand name and returns the exit
// status. summary is the one-line description shown by "facematch help".
type command struct {
	run     func(args []string, stdout, stderr io.Writer) int
	summary string
}

// commands maps a subcommand name to its implementation.
var commands = map[string]command{}

// Exit statuses shared by all subcommands.
const (
	exitMatch   = 0 // match, or success for commands without a verdict
	exitNoMatch = 1 // compare: the faces do not match
	exitError   = 2 // bad usage, unreadable input, no face, ...
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args (without the program name) to a subcommand.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitError
	}
	switch args[0] {
	case "--version", "-version", "-v":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"-h"}, stdout, stderr)
			}
		}
		usage(stdout)
		return exitMatch
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "facematch: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitError
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: facematch <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run \"facematch help <command>\" for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 match/success, 1 no match, 2 error. \"facematch --version\" prints the version and model checksums.")
}
