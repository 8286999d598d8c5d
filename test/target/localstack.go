package target

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// DefaultLocalStackEndpoint is where a running LocalStack answers unless LOCALSTACK_ENDPOINT
// says otherwise.
const DefaultLocalStackEndpoint = "http://localhost:4566"

// LocalStackImage is the LocalStack image started when none is running.
const LocalStackImage = "localstack/localstack:4.4"

// localStackCredentials: LocalStack maps the access key "000000000000" to its default account.
var localStackCredentials = aws.Credentials{AccessKeyID: "000000000000", SecretAccessKey: "test", Source: "localstack"}

var (
	startedLocalStack     string
	startedLocalStackErr  error
	startedLocalStackOnce sync.Once
)

func newLocalStack(ctx context.Context, t testing.TB) (*Target, error) {
	endpoint := os.Getenv(LocalStackEndpointEnv)
	if endpoint == "" {
		endpoint = DefaultLocalStackEndpoint
	}
	if !localStackHealthy(ctx, endpoint) {
		dockerErr := dockerAvailable(ctx)
		if reason := localStackSkipReason(endpoint, dockerErr); reason != "" {
			t.Skip(reason)
		}
		startedLocalStackOnce.Do(func() { startedLocalStack, startedLocalStackErr = startLocalStack(ctx) })
		if startedLocalStackErr != nil {
			return nil, startedLocalStackErr
		}
		endpoint = startedLocalStack
	}
	runID, err := NewRunID()
	if err != nil {
		return nil, err
	}
	region := "us-east-1"
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(region),
		config.WithBaseEndpoint(endpoint),
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: localStackCredentials}),
		config.WithSharedConfigFiles(nil),
		config.WithSharedCredentialsFiles(nil),
	)
	if err != nil {
		return nil, err
	}
	return newEndpointTarget(LocalStack, runID, region, endpoint, localStackCredentials, cfg), nil
}

// localStackSkipReason says why the localstack target cannot run here: nothing answers at
// the endpoint and no Docker engine can start LocalStack. Empty when it can run.
func localStackSkipReason(endpoint string, dockerErr error) string {
	if dockerErr == nil {
		return ""
	}
	return fmt.Sprintf("localstack target: nothing answers at %s and no Docker engine is available to start %s (%v); start LocalStack yourself and set %s, or run on a machine with a Docker engine",
		endpoint, LocalStackImage, dockerErr, LocalStackEndpointEnv)
}

func localStackHealthy(ctx context.Context, endpoint string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/_localstack/health", nil) //nolint:gosec // the local LocalStack endpoint the harness was given
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req) //nolint:gosec // the local LocalStack endpoint the harness was given
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// dockerAvailable reports whether a Docker engine answers (a client alone is not enough).
func dockerAvailable(ctx context.Context) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	return nil
}

// startLocalStack starts one LocalStack container for the test binary; testcontainers'
// reaper removes it when the binary exits.
func startLocalStack(ctx context.Context) (string, error) {
	ctr, err := testcontainers.Run(ctx, LocalStackImage,
		testcontainers.WithExposedPorts("4566/tcp"),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/_localstack/health").WithPort("4566/tcp").WithStartupTimeout(3*time.Minute)),
	)
	if err != nil {
		return "", fmt.Errorf("start %s: %w", LocalStackImage, err)
	}
	endpoint, err := ctr.PortEndpoint(ctx, "4566/tcp", "http")
	if err != nil {
		return "", fmt.Errorf("localstack endpoint: %w", err)
	}
	return endpoint, nil
}
