// Command transcoder is the Lambda function of the transcode queue: SQS events carrying S3
// notifications, answered with partial batch responses.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode/pipeline"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := pipeline.LoadConfig(os.Getenv)
	if err != nil {
		log.Error("cannot start", "error", err)
		os.Exit(1)
	}
	ctx := context.Background()
	awsCfg, err := cfg.AWSConfig(ctx)
	if err != nil {
		log.Error("cannot start", "error", err)
		os.Exit(1)
	}
	proc, err := pipeline.New(ctx, cfg, awsCfg, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		os.Exit(1)
	}
	defer proc.Store.Close()
	lambda.Start(proc.HandleSQSEvent)
}
