// Command artifacts builds every Go main under lambda-src/ into a Lambda-ready zip in the
// output folder (build/ by default): <name>.zip holding one executable, bootstrap, for the
// provided.al2023 runtime (linux, CGO off).
//
// The bytes are deterministic: the same sources and Go toolchain give the same sha256, so
// Terraform's source_code_hash sees no change after a rebuild. A zip whose bytes did not
// change is not rewritten, which keeps its mtime and make's view of it stable too.
//
// It also writes manifest.json: for each artifact its path, sha256 (hex) and the base64
// CodeSha256 that Lambda reports for it, so that tests can match what was deployed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	var opts Options
	flag.StringVar(&opts.SourceRoot, "src", "lambda-src", "folder whose Go mains are built, one artifact per main")
	flag.StringVar(&opts.OutDir, "out", "build", "folder the zips and manifest.json are written to")
	flag.StringVar(&opts.Arch, "arch", envOr("MEDIASTACK_ARCH", "amd64"), "GOARCH of the artifacts: amd64 or arm64 (matches the Lambda architecture x86_64 or arm64)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	manifest, err := Build(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "artifacts: %v\n", err)
		os.Exit(1)
	}
	for _, a := range manifest.Artifacts {
		fmt.Printf("artifacts: %-20s %s  %s\n", a.Name, a.SHA256[:12], a.Zip)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
