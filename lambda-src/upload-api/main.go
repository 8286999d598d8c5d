// Command upload-api is the HTTP API the upload fleet runs behind the ALB: presigned uploads
// into the originals bucket and media metadata with CDN URLs. Configuration comes from the
// environment (see lambda-src/README.md); SIGTERM shuts it down gracefully.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/api"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := api.ConfigFromEnv()
	if err != nil {
		logger.Error("invalid configuration", "error", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := api.Run(ctx, cfg, logger); err != nil {
		logger.Error("upload-api failed", "error", err)
		os.Exit(1)
	}
}
