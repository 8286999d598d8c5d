package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	"github.com/mediastack/terraform-aws-mediastack/test/localdeploy"
	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// stack is examples/complete deployed on the test's target, with the local cloud running
// when the target is local. Everything a check does goes through its outputs and public
// endpoints.
type stack struct {
	stackOptions
	tg      *target.Target
	emu     *emulator.Emulator // nil on targets other than local
	cloud   *localcloud.Cloud  // nil on targets with a data plane of their own
	out     map[string]any
	events  *inbox
	http    *http.Client // the API, presigned URLs and CDN URLs, by their AWS names
	viaCDN  *http.Client // through the local cloud's proxy, as unmodified clients go
	abroad  *http.Client // viaCDN, from a country the stack does not serve (local target)
	toolEnv []string     // environment of ffprobe and friends
}

type stackOptions struct {
	// enforceIAM runs the stack on an emulator of its own with IAM enforcement, so that a
	// missing permission of a role fails the test.
	enforceIAM bool
	// signedCDN makes the distribution trust a key group: unsigned requests are refused and
	// the API hands out signed URLs and cookies.
	signedCDN bool
	// transcoderTimeout is the transcode function's timeout; the queue redelivers a job
	// whose sandbox died after six times this.
	transcoderTimeout time.Duration
}

// Transcoder timeouts of the suite: a short one, so that a killed job is redelivered within
// minutes yet a short clip transcodes within it while the suite's other deployments load
// the machine, and one that a minute of 1080p video needs on a loaded 2-core machine.
const (
	shortTranscoderTimeout = 25 * time.Second
	longTranscoderTimeout  = 10 * time.Minute
)

// transcodeConcurrency is the transcode function's maximum concurrency in the suite, the
// lowest an event source mapping takes.
const transcodeConcurrency = 2

// reconcileEvery is how often the suite's deployments look for lost derivatives.
const reconcileEvery = time.Minute

// multipartThreshold is the upload API's in the suite: a long clip goes multipart.
const multipartThreshold = 32 << 20

// notificationSender is the address outcome emails come from.
const notificationSender = "media@example.com"

// The stack serves homeCountry only; clients connect from there, except one from abroad, a
// loopback address the local cloud places in another country.
const homeCountry = "US"

var abroad = netip.MustParseAddr("127.0.9.9")

// deployStack deploys examples/complete with opts.
func deployStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	ctx := context.Background()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	name, err := target.FromEnv()
	require.NoError(t, err)

	s := &stack{stackOptions: opts, http: http.DefaultClient, viaCDN: http.DefaultClient, toolEnv: os.Environ()}
	var emu *emulator.Emulator
	var ns *emulator.Namespace
	switch {
	case name == target.Local && opts.enforceIAM:
		emu = emulator.StartT(t, emulator.Options{EnforceIAM: true})
	case name == target.Local:
		emu = emulator.Shared(t)
	case opts.enforceIAM:
		t.Skip("IAM enforcement is the emulator's; AWS enforces IAM in every run")
	}
	s.emu = emu
	if emu != nil {
		ns = emu.NamespaceT(t)
		s.tg, err = target.NewLocal(ctx, ns)
		require.NoError(t, err)
	} else {
		s.tg = targettest.New(t)
	}

	vars := map[string]any{
		"upload_api_zip_path": filepath.Join(root, "build", "upload-api.zip"),
		"transcoder_zip_path": filepath.Join(root, "build", "transcoder.zip"),
		"zone_name":           s.tg.RunID + ".media.example.com",
		"transcoder_timeout":  int(opts.transcoderTimeout.Seconds()),
		// Two encodes at a time per deployment: on 2 cores shared with the suite's other
		// deployments, more at once only slow one another past the short timeout, where
		// jobs that wait in the queue start later and end in time.
		"transcoder_maximum_concurrency": transcodeConcurrency,
		"multipart_threshold_bytes":      multipartThreshold,
		"notification_email_from":        notificationSender,
		"allowed_countries":              []string{homeCountry},
		"reconcile":                      map[string]any{"schedule": "rate(1 minute)"},
	}
	if opts.signedCDN {
		vars["cdn_signing"] = signingKey(t, s.tg)
	}
	emulatorURL := ""
	if emu != nil {
		emulatorURL = emu.URL()
	}
	app, err := localdeploy.WebApp(root, emulatorURL)
	require.NoError(t, err)
	if emu == nil {
		delete(app, "aws_endpoint") // AWS's own Cognito and S3
	}
	vars["web_app"] = app
	if opts.transcoderTimeout < time.Minute {
		// Chunks that fit in the short timeout; a chunkedClipSeconds video makes three.
		vars["chunking"] = map[string]any{"chunk_seconds": chunkSeconds, "above_seconds": 2 * chunkSeconds}
		vars["worker_fleet"] = map[string]any{"zip_path": filepath.Join(root, "build", "transcode-worker.zip"), "route_above_bytes": workerRouteAbove}
	}
	// TestComplete proves examples/complete's destroy, with the worker fleet: the minutes of its
	// waiters are not spent again here.
	deployed := targettest.DeployLeftToEmulator(t, s.tg, "examples/complete", vars)
	s.out = terraform.OutputAllContext(t, context.Background(), deployed)

	if emu != nil {
		var include func(string) bool
		if opts.enforceIAM { // namespaces share the account: take only this run's resources
			include = func(name string) bool { return strings.Contains(name, ns.ID) }
		}
		s.cloud = localcloud.StartT(t, localcloud.Options{Emulator: emu, Namespace: ns, Include: include,
			DefaultCountry:  homeCountry,
			ClientCountries: []localcloud.ClientCountry{{Prefix: netip.PrefixFrom(abroad, 32), Country: "FR"}},
		})
		s.http = s.cloud.HTTPClient()
		s.viaCDN = proxiedClient(t, s.cloud, emu, netip.Addr{})
		s.abroad = proxiedClient(t, s.cloud, emu, abroad)
		s.toolEnv = append(s.toolEnv, s.cloud.Proxy().Env()...)
	}
	s.events = startInbox(t, s)
	return s
}

// proxiedClient goes through the local cloud's proxy, as unmodified clients do, from the
// loopback address from when it is valid (the local cloud places clients by it).
func proxiedClient(t *testing.T, cloud *localcloud.Cloud, emu *emulator.Emulator, from netip.Addr) *http.Client {
	t.Helper()
	proxy, err := url.Parse(cloud.Proxy().URL())
	require.NoError(t, err)
	transport := &http.Transport{
		Proxy:           http.ProxyURL(proxy),
		TLSClientConfig: &tls.Config{RootCAs: emu.CA().CertPool(), MinVersion: tls.VersionTLS12},
	}
	if from.IsValid() {
		transport.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}).DialContext
	}
	return &http.Client{Timeout: time.Minute, Transport: transport}
}

// signingKey makes an RSA key pair for CloudFront and keeps the private key in a Secrets
// Manager secret, as an operator would before applying: the key never enters Terraform's
// state. It returns the value of examples/complete's cdn_signing variable.
func signingKey(t *testing.T, tg *target.Target) map[string]any {
	t.Helper()
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	secrets := secretsmanager.NewFromConfig(tg.AWSConfig())
	secret, err := secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(tg.RunID + "-cdn-signing-key"),
		SecretString: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(t, key)}))),
	})
	require.NoError(t, err)
	t.Cleanup(func() { // registered before Deploy's destroy, so it runs after it
		_, err := secrets.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: secret.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
		assert.NoError(t, err, "delete the signing key's secret")
	})
	return map[string]any{
		"public_key_pem":         string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		"private_key_secret_arn": aws.ToString(secret.ARN),
	}
}

func mustPKCS8(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return der
}

// signIn signs a user of the stack's pool in and returns an API client acting as them.
func (s *stack) signIn(t *testing.T, email, password string) *mediaclient.Client {
	t.Helper()
	token, err := localcloud.SignIn(context.Background(), s.tg.AWSConfig(), s.output(t, "user_pool_id"), s.output(t, "user_pool_client_id"), email, password)
	require.NoError(t, err)
	return &mediaclient.Client{BaseURL: s.output(t, "api_url"), Token: token, API: s.http, Storage: s.http}
}

func (s *stack) output(t *testing.T, name string) string {
	t.Helper()
	v, ok := s.out[name].(string)
	require.True(t, ok, "output %s must be a string, got %#v", name, s.out[name])
	return v
}

// mediaEvent is what the transcoder announces on the topic (lambda-src/README.md).
type mediaEvent struct {
	MediaID   string `json:"media_id"`
	Owner     string `json:"owner"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	HLSURL    string `json:"hls_url"`
	PosterURL string `json:"poster_url"`
	// ThumbnailsURL is the WebVTT track of the scrubbing thumbnails.
	ThumbnailsURL string `json:"thumbnails_url"`
	Renditions    []struct {
		Height, Width int
		URL           string
		Bytes         int64
	} `json:"renditions"`
}

// inbox reads the subscriber queue in the background and keeps every event by media id, so
// that checks running side by side each find their own.
type inbox struct {
	mu     sync.Mutex
	events map[string][]mediaEvent
	cancel context.CancelFunc
	done   chan struct{}
}

func startInbox(t *testing.T, s *stack) *inbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &inbox{events: map[string][]mediaEvent{}, cancel: cancel, done: make(chan struct{})}
	client := sqs.NewFromConfig(s.tg.AWSConfig())
	queue := s.output(t, "media_events_inbox_url")
	go func() {
		defer close(in.done)
		for ctx.Err() == nil {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
			if err != nil {
				if ctx.Err() == nil {
					t.Logf("inbox: %v", err)
					time.Sleep(200 * time.Millisecond)
				}
				continue
			}
			for _, m := range out.Messages {
				var e mediaEvent
				if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
					t.Logf("inbox: not a media event: %s", aws.ToString(m.Body))
				} else {
					in.mu.Lock()
					in.events[e.MediaID] = append(in.events[e.MediaID], e)
					in.mu.Unlock()
				}
				_, _ = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle})
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-in.done })
	return in
}

// wait returns the first event of id, failing the test after timeout.
func (in *inbox) wait(t *testing.T, id string, timeout time.Duration) mediaEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if evs := in.of(id); len(evs) > 0 {
			return evs[0]
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.FailNow(t, "no media event", "no event for media %s within %s", id, timeout)
	return mediaEvent{}
}

// assertSettled checks that id has exactly want events once a duplicate has had time to
// show up.
func (in *inbox) assertSettled(t *testing.T, id string, want int, msg string) {
	t.Helper()
	time.Sleep(5 * time.Second) // room for a duplicate to show up
	assert.Len(t, in.of(id), want, msg)
}

func (in *inbox) of(id string) []mediaEvent {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]mediaEvent(nil), in.events[id]...)
}

// makeVideo makes a small test video: 854x480 at 15 fps (two rungs of the ladder, 480p and
// 360p), seconds long, with sound.
func makeVideo(t *testing.T, seconds int) string {
	return makeVideoOf(t, "854x480", 15, seconds)
}

// makeVideoOf makes a test video of the given size and frame rate, seconds long, with sound,
// as a camera app would send it: lightly compressed (ultrafast), so a minute of 1080p is
// about 120 MB. encoding adds to or overrides the encoder options.
func makeVideoOf(t *testing.T, size string, fps, seconds int, encoding ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.mp4")
	d := strconv.Itoa(seconds)
	args := []string{"-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=" + strconv.Itoa(fps) + ":duration=" + d,
		"-f", "lavfi", "-i", "sine=frequency=440:duration=" + d,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"}
	out, err := exec.Command("ffmpeg", append(append(args, encoding...), "-y", path)...).CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", out)
	return path
}
