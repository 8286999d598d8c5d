// Package pipeline is the transcode core that both entry points run: it takes a message of
// the transcode queue, claims the media, transcodes it, records the outcome and publishes
// the media event. The Lambda function and the worker daemon are thin mains around it.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/notify"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
)

// Config is the environment of the transcoder and the worker, read once at start.
type Config struct {
	Region            string // AWS_REGION
	OriginalsBucket   string // ORIGINALS_BUCKET
	DerivativesBucket string // DERIVATIVES_BUCKET
	StorageClass      string // DERIVATIVES_STORAGE_CLASS, default REDUCED_REDUNDANCY
	TopicARN          string // TOPIC_ARN
	DBSecretARN       string // DB_SECRET_ARN
	DBHost            string // DB_HOST
	DBPort            int    // DB_PORT, default 5432
	DBName            string // DB_NAME
	DBSSLMode         string // DB_SSLMODE, default prefer (see store.Config)
	CDNBaseURL        string // CDN_BASE_URL
	QueueURL          string // QUEUE_URL, the worker's queue
	EmailFrom         string // NOTIFY_EMAIL_FROM, a verified SES identity; none: no outcome email
	MediaLink         string // MEDIA_LINK_TEMPLATE, the email's link, with {media_id}; required with EmailFrom

	FFmpeg, FFprobe string           // FFMPEG_PATH, FFPROBE_PATH, else the layer, else PATH
	Limits          transcode.Limits // MAX_DURATION_SECONDS (3600), MAX_DIMENSION (4096), MAX_ORIGINAL_BYTES (5 GiB)
	WatermarkPath   string           // WATERMARK_PATH, an image file; none by default
	Preset          string           // X264_PRESET, default veryfast
	ThumbnailS      int              // THUMBNAIL_INTERVAL_SECONDS (5): seconds between scrubbing thumbnails
	MaxAttempts     int              // MAX_ATTEMPTS (5): transcode claims before the media fails for good
	// JOB_QUEUE_ARN: the transcode queue, where the function sends jobs of its own (chunks,
	// re-derivations); none: it sends none.
	JobQueueURL string
	// CHUNK_SECONDS (none: every video in one pass) and CHUNK_ABOVE_SECONDS (60): videos
	// longer than that in chunks of about that long; needs JOB_QUEUE_ARN.
	Chunking Chunking
	// HOME_REGION: the catalogue's home; its reconciler also checks the media recorded before
	// rows named their region. CDN_DISTRIBUTION_ID: where media made again are invalidated.
	HomeRegion, DistributionID string
	// WORKER_QUEUE_ARN (none: every job stays), WORKER_ABOVE_BYTES and
	// WORKER_ONE_PASS_ABOVE_SECONDS: the jobs this function cannot hold go to the worker fleet.
	Worker Routing
}

// LoadConfig reads the environment through getenv (os.Getenv in the mains). The error
// names every variable that is missing or wrong.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	required := func(name string) string {
		v := getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
		return v
	}
	orDefault := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	number := func(name string, def int64) int64 {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive integer", name, v))
		}
		return n
	}
	c := Config{
		Region:            required("AWS_REGION"),
		OriginalsBucket:   required("ORIGINALS_BUCKET"),
		DerivativesBucket: required("DERIVATIVES_BUCKET"),
		StorageClass:      orDefault("DERIVATIVES_STORAGE_CLASS", string(s3types.StorageClassReducedRedundancy)),
		TopicARN:          required("TOPIC_ARN"),
		DBSecretARN:       required("DB_SECRET_ARN"),
		DBHost:            required("DB_HOST"),
		DBPort:            int(number("DB_PORT", 5432)),
		DBName:            required("DB_NAME"),
		DBSSLMode:         getenv("DB_SSLMODE"),
		CDNBaseURL:        required("CDN_BASE_URL"),
		QueueURL:          getenv("QUEUE_URL"),
		HomeRegion:        getenv("HOME_REGION"),
		DistributionID:    getenv("CDN_DISTRIBUTION_ID"),
		EmailFrom:         getenv("NOTIFY_EMAIL_FROM"),
		MediaLink:         getenv("MEDIA_LINK_TEMPLATE"),
		WatermarkPath:     getenv("WATERMARK_PATH"),
		Preset:            orDefault("X264_PRESET", "veryfast"),
		ThumbnailS:        int(number("THUMBNAIL_INTERVAL_SECONDS", 5)),
		MaxAttempts:       int(number("MAX_ATTEMPTS", 5)),
		Limits: transcode.Limits{
			MaxDurationS: float64(number("MAX_DURATION_SECONDS", 3600)),
			MaxDimension: int(number("MAX_DIMENSION", 4096)),
			MaxBytes:     number("MAX_ORIGINAL_BYTES", 5<<30),
		},
	}
	if arn := getenv("JOB_QUEUE_ARN"); arn != "" {
		u, err := QueueURL(arn)
		if err != nil {
			errs = append(errs, fmt.Errorf("JOB_QUEUE_ARN: %w", err))
		}
		c.JobQueueURL = u
	}
	if getenv("CHUNK_SECONDS") != "" {
		c.Chunking = Chunking{ChunkSeconds: int(number("CHUNK_SECONDS", 20)), AboveSeconds: int(number("CHUNK_ABOVE_SECONDS", 60))}
		if c.Chunking.ChunkSeconds < 4 {
			errs = append(errs, fmt.Errorf("CHUNK_SECONDS=%d: want at least one segment, 4 seconds", c.Chunking.ChunkSeconds))
		}
		if c.JobQueueURL == "" {
			errs = append(errs, errors.New("CHUNK_SECONDS needs JOB_QUEUE_ARN, the queue of the chunks' jobs"))
		}
	}
	if arn := getenv("WORKER_QUEUE_ARN"); arn != "" {
		u, err := QueueURL(arn)
		if err != nil {
			errs = append(errs, fmt.Errorf("WORKER_QUEUE_ARN: %w", err))
		}
		c.Worker = Routing{QueueURL: u, AboveBytes: number("WORKER_ABOVE_BYTES", 0), OnePassAboveSeconds: int(number("WORKER_ONE_PASS_ABOVE_SECONDS", 0))}
	}
	var validClass bool
	for _, v := range s3types.StorageClass("").Values() {
		validClass = validClass || string(v) == c.StorageClass
	}
	if !validClass {
		errs = append(errs, fmt.Errorf("DERIVATIVES_STORAGE_CLASS=%q is not an S3 storage class", c.StorageClass))
	}
	if u, err := url.Parse(c.CDNBaseURL); c.CDNBaseURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		errs = append(errs, fmt.Errorf("CDN_BASE_URL=%q: want https://<distribution domain>", c.CDNBaseURL))
	}
	if c.EmailFrom != "" {
		if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
			errs = append(errs, fmt.Errorf("NOTIFY_EMAIL_FROM=%q: want an email address: %w", c.EmailFrom, err))
		}
		if c.MediaLink == "" {
			errs = append(errs, errors.New("MEDIA_LINK_TEMPLATE is required with NOTIFY_EMAIL_FROM: the emails link to the media"))
		} else if err := notify.CheckLink(c.MediaLink); err != nil {
			errs = append(errs, fmt.Errorf("MEDIA_LINK_TEMPLATE: %w", err))
		}
	}
	if c.ThumbnailS > 60 {
		errs = append(errs, fmt.Errorf("THUMBNAIL_INTERVAL_SECONDS=%d: want 1 to 60 seconds between scrubbing thumbnails", c.ThumbnailS))
	}
	if c.WatermarkPath != "" {
		if _, err := os.Stat(c.WatermarkPath); err != nil {
			errs = append(errs, fmt.Errorf("WATERMARK_PATH: %w", err))
		}
	}
	var err error
	if c.FFmpeg, err = transcode.FindTool("ffmpeg", "FFMPEG_PATH"); err != nil {
		errs = append(errs, err)
	}
	if c.FFprobe, err = transcode.FindTool("ffprobe", "FFPROBE_PATH"); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// AWSConfig loads the SDK configuration: credentials of the role, and AWS_ENDPOINT_URL and
// AWS_CA_BUNDLE where the local cloud sets them.
func (c Config) AWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(c.Region))
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// S3Client returns an S3 client; path-style when an endpoint is configured, as emulators
// on loopback addresses need.
func S3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
}

// New builds the processor of c: database credentials from the secret, migrations applied.
// Close its store when done.
func New(ctx context.Context, c Config, awsCfg aws.Config, log *slog.Logger) (*Processor, error) {
	dbCfg, err := store.ConfigFromSecret(ctx, store.SecretsClient(awsCfg, c.DBSecretARN), c.DBSecretARN, c.DBHost, c.DBPort, c.DBName)
	if err != nil {
		return nil, err
	}
	dbCfg.SSLMode = c.DBSSLMode
	st, err := store.Open(ctx, dbCfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	s3c := S3Client(awsCfg)
	var cdn *Invalidation
	if c.DistributionID != "" {
		cdn = &Invalidation{Client: cloudfront.NewFromConfig(awsCfg), DistributionID: c.DistributionID}
	}
	return &Processor{
		Store: st,
		Transcoder: &transcode.Transcoder{
			Transfer:          transfermanager.New(s3c),
			S3:                s3c,
			OriginalsBucket:   c.OriginalsBucket,
			DerivativesBucket: c.DerivativesBucket,
			StorageClass:      c.StorageClass,
			Options: transcode.Options{
				FFmpeg: c.FFmpeg, FFprobe: c.FFprobe, Limits: c.Limits,
				WatermarkPath: c.WatermarkPath, Preset: c.Preset, ThumbnailSeconds: c.ThumbnailS,
			},
		},
		SNS:             sns.NewFromConfig(awsCfg),
		SQS:             sqs.NewFromConfig(awsCfg),
		Email:           c.email(awsCfg),
		TopicARN:        c.TopicARN,
		CDNBaseURL:      c.CDNBaseURL,
		OriginalsBucket: c.OriginalsBucket,
		JobQueueURL:     c.JobQueueURL,
		Chunking:        c.Chunking,
		Worker:          c.Worker,
		Region:          c.Region,
		HomeRegion:      c.HomeRegion,
		CDN:             cdn,
		Queue:           sqs.NewFromConfig(awsCfg),
		MaxAttempts:     c.MaxAttempts,
		Log:             log,
	}, nil
}

// email is the outcome email of c, nil when it sends none.
func (c Config) email(awsCfg aws.Config) *notify.Email {
	if c.EmailFrom == "" {
		return nil
	}
	return &notify.Email{SES: sesv2.NewFromConfig(awsCfg), From: c.EmailFrom, Link: c.MediaLink}
}

// Defaults of the Processor's timing.
const (
	DefaultLease          = 2 * time.Minute
	DefaultDeadlineMargin = 20 * time.Second
	// LeaseSlack is how long a claim made under a deadline outlives it.
	LeaseSlack = 5 * time.Second
)
