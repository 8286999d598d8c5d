// Command changelog reads CHANGELOG.md for the release workflow and for people about to
// release (see package changelog):
//
//	changelog check [file ...]   the changelog is well formed and every ?ref= in the files
//	                             (README.md by default) names its newest release
//	changelog latest             the newest release's tag, e.g. v0.1.0
//	changelog notes VERSION      that release's notes, as the release page shows them
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mediastack/terraform-aws-mediastack/changelog"
)

func main() {
	file := flag.String("f", "CHANGELOG.md", "the changelog")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: changelog [-f CHANGELOG.md] check [file ...] | latest | notes VERSION\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*file, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "changelog:", err)
		os.Exit(1)
	}
}

func run(file string, args []string) error {
	if len(args) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	c, err := changelog.ReadFile(file)
	if err != nil {
		return err
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "check":
		if len(rest) == 0 {
			rest = []string{"README.md"}
		}
		return c.CheckPins(rest...)
	case cmd == "latest" && len(rest) == 0:
		r, err := c.Latest()
		if err != nil {
			return err
		}
		fmt.Println(r.Tag())
	case cmd == "notes" && len(rest) == 1:
		r, err := c.Release(rest[0])
		if err != nil {
			return err
		}
		fmt.Println(r.Notes)
	default:
		flag.Usage()
		os.Exit(2)
	}
	return nil
}
