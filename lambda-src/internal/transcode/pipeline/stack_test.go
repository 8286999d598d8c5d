package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/events"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

var (
	pg       *postgres.Server
	clipsDir string
)

func TestMain(m *testing.M) {
	code, err := func() (int, error) {
		s, err := postgres.Start(context.Background())
		if err != nil {
			return 1, err
		}
		defer func() { _ = s.Stop() }()
		pg = s
		dir, remove, err := procs.MkdirTemp("pipeline-clips-*")
		if err != nil {
			return 1, err
		}
		defer func() { _ = remove() }()
		clipsDir = dir
		return emulator.RunMain(m), nil
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

var clipRecipes = map[string][]string{
	"landscape1080.mp4": {"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"},
	// A phone's minute of 1080p: its renditions are larger than a multipart part.
	"minute1080.mp4": {"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "60", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"},
	"small.mp4": {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine", "-t", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"},
	// Three chunks of 4 seconds with 2-second segments (see TestChunkedTranscodeAssemblesOnce).
	"tenseconds.mp4": {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"},
	"noaudio.mp4": {"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"},
}

var clipsMu sync.Mutex

// clip returns a generated clip; "notavideo" is a text file.
func clip(t testing.TB, name string) string {
	t.Helper()
	clipsMu.Lock()
	defer clipsMu.Unlock()
	path := filepath.Join(clipsDir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if name == "notavideo" {
		require.NoError(t, os.WriteFile(path, []byte("hello, not a video"), 0o644))
		return path
	}
	ffmpeg, err := transcode.FindTool("ffmpeg", "FFMPEG_PATH")
	require.NoError(t, err)
	out, err := exec.Command(ffmpeg, append(append([]string{"-hide_banner", "-v", "error", "-y"}, clipRecipes[name]...), path)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return path
}

// stack is the transcoder's surroundings on the emulator and the test's PostgreSQL.
type stack struct {
	cfg         Config
	awsCfg      aws.Config
	s3          *s3.Client
	sqs         *sqs.Client
	eventsQueue string // subscribed to the topic, raw delivery
	uploadQueue string // receives the originals bucket's notifications
	proc        *Processor
	logs        *testWriter // what the processor logged
}

func newStack(t testing.TB) *stack {
	t.Helper()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	awsCfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	st := &stack{awsCfg: awsCfg, s3: S3Client(awsCfg), sqs: sqs.NewFromConfig(awsCfg)}

	originals, derivatives := ns.ID+"-originals", ns.ID+"-derivatives"
	for _, b := range []string{originals, derivatives} {
		_, err := st.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		require.NoError(t, err)
	}
	topic, err := sns.NewFromConfig(awsCfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(ns.ID + "-media-events")})
	require.NoError(t, err)
	st.eventsQueue = st.queue(t, ns.ID+"-events")
	_, err = sns.NewFromConfig(awsCfg).Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(st.queueARN(t, st.eventsQueue)),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	})
	require.NoError(t, err)
	st.uploadQueue = st.queue(t, ns.ID+"-transcode")
	_, err = st.s3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(originals),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(st.queueARN(t, st.uploadQueue)), Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	})
	require.NoError(t, err)

	db := pg.DatabaseT(t)
	secret, err := secretsmanager.NewFromConfig(awsCfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(ns.ID + "-db"),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q,"engine":"postgres"}`, db.User, db.Password)),
	})
	require.NoError(t, err)
	env := map[string]string{
		"AWS_REGION": ns.Region, "ORIGINALS_BUCKET": originals, "DERIVATIVES_BUCKET": derivatives,
		"TOPIC_ARN": aws.ToString(topic.TopicArn), "DB_SECRET_ARN": aws.ToString(secret.ARN), "DB_HOST": db.Host,
		"DB_PORT": fmt.Sprint(db.Port), "DB_NAME": db.Name, "DB_SSLMODE": "disable",
		"CDN_BASE_URL": "https://d111111abcdef8.cloudfront.net", "QUEUE_URL": st.uploadQueue,
	}
	st.cfg, err = LoadConfig(func(k string) string { return env[k] })
	require.NoError(t, err)
	st.logs = &testWriter{t: t}
	st.proc, err = New(ctx, st.cfg, awsCfg, slog.New(slog.NewJSONHandler(st.logs, nil)))
	require.NoError(t, err)
	t.Cleanup(st.proc.Store.Close)
	return st
}

func (st *stack) queue(t testing.TB, name string) string {
	out, err := st.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	require.NoError(t, err)
	return aws.ToString(out.QueueUrl)
}

func (st *stack) queueARN(t testing.TB, url string) string {
	out, err := st.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	require.NoError(t, err)
	return out.Attributes["QueueArn"]
}

// upload puts a clip where the upload API would have the client put it and returns the
// media id and the S3 notification that announced it, taken from the queue.
func (st *stack) upload(t testing.TB, owner, clipName string) (id, body string) {
	t.Helper()
	id = uuid.NewString()
	return id, st.uploadAs(t, id, owner, clipName)
}

// uploadRecorded is upload for a media the upload API recorded first, as m says.
func (st *stack) uploadRecorded(t testing.TB, m store.Media, clipName string) (id, body string) {
	t.Helper()
	m.ID = uuid.NewString()
	m.OriginalKey = events.OriginalKey(m.Owner, m.ID)
	require.NoError(t, st.proc.Store.Create(context.Background(), m))
	return m.ID, st.uploadAs(t, m.ID, m.Owner, clipName)
}

func (st *stack) uploadAs(t testing.TB, id, owner, clipName string) (body string) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(clip(t, clipName))
	require.NoError(t, err)
	defer f.Close()
	key := events.OriginalKey(owner, id)
	_, err = st.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &st.cfg.OriginalsBucket, Key: &key, Body: f})
	require.NoError(t, err)
	for _, m := range st.receive(t, st.uploadQueue, 5*time.Second) {
		if strings.Contains(m.body, id) {
			return m.body
		}
	}
	t.Fatalf("no notification of %s", key)
	return ""
}

type message struct {
	body   string
	status string // the SNS message attribute
}

// receive drains a queue: it returns once a receive within wait brought nothing more.
func (st *stack) receive(t testing.TB, queue string, wait time.Duration) []message {
	t.Helper()
	ctx := context.Background()
	var msgs []message
	deadline := time.Now().Add(wait)
	for {
		out, err := st.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		require.NoError(t, err)
		for _, m := range out.Messages {
			msgs = append(msgs, message{body: aws.ToString(m.Body), status: aws.ToString(m.MessageAttributes["status"].StringValue)})
			_, err := st.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle})
			require.NoError(t, err)
		}
		if (len(out.Messages) == 0 && len(msgs) > 0) || time.Now().After(deadline) {
			return msgs
		}
	}
}

// mediaEvents returns the media events published so far.
func (st *stack) mediaEvents(t testing.TB) []events.MediaEvent {
	t.Helper()
	var evs []events.MediaEvent
	for _, m := range st.receive(t, st.eventsQueue, 2*time.Second) {
		var ev events.MediaEvent
		require.NoError(t, json.Unmarshal([]byte(m.body), &ev), m.body)
		require.Equal(t, ev.Status, m.status, "the status attribute matches the body")
		evs = append(evs, ev)
	}
	return evs
}

// derivativeKeys lists the derivatives bucket.
func (st *stack) derivativeKeys(t testing.TB) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(st.s3, &s3.ListObjectsV2Input{Bucket: &st.cfg.DerivativesBucket})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// chunkedStack is a stack that transcodes videos longer than 5 s in chunks of 4 s, with
// 2-second segments and thumbnails.
func chunkedStack(t *testing.T) *stack {
	t.Helper()
	st := newStack(t)
	st.proc.JobQueueURL, st.proc.Chunking = st.uploadQueue, Chunking{ChunkSeconds: 4, AboveSeconds: 5}
	st.proc.Transcoder.Options.SegmentSeconds, st.proc.Transcoder.Options.ThumbnailSeconds = 2, 2
	return st
}

// jobs takes the transcode queue's messages off it and returns the jobs of a kind
// ("chunk_job", "rederive_job", ...), sorted (chunks by index: their bodies differ only there).
func (st *stack) jobs(t *testing.T, kind string) []string {
	t.Helper()
	var jobs []string
	for _, m := range st.receive(t, st.uploadQueue, 3*time.Second) {
		if strings.Contains(m.body, `"`+kind+`"`) {
			jobs = append(jobs, m.body)
		}
	}
	slices.Sort(jobs)
	return jobs
}

// derivative fetches a CDN URL's file from the derivatives bucket, as the CDN would.
func (st *stack) derivative(t *testing.T) func(u string) []byte {
	return func(u string) []byte {
		t.Helper()
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		out, err := st.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &st.cfg.DerivativesBucket, Key: aws.String(strings.TrimPrefix(parsed.Path, "/"))})
		require.NoError(t, err, u)
		defer out.Body.Close()
		data, err := io.ReadAll(out.Body)
		require.NoError(t, err)
		return data
	}
}

// testWriter sends the processor's JSON logs to the test log, and keeps them.
type testWriter struct {
	t   testing.TB
	mu  sync.Mutex
	all strings.Builder
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.Write(p)
}

// String is everything logged so far.
func (w *testWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

var _ io.Writer = (*testWriter)(nil)
