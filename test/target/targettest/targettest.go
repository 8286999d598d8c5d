package targettest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// New resolves the target for a test from the environment. The local target starts (or
// reuses) the test binary's emulator and gives the test a namespace of its own; LocalStack
// is skipped, saying why, when it cannot run; AWS refuses to run without an explicit opt-in.
func New(t testing.TB) *target.Target {
	t.Helper()
	name, err := target.FromEnv()
	if err != nil {
		t.Fatalf("%v", err)
	}
	ctx := context.Background()
	var tg *target.Target
	switch name {
	case target.Local:
		tg, err = target.NewLocal(ctx, emulator.Shared(t).NamespaceT(t))
	case target.LocalStack:
		tg, err = newLocalStack(ctx, t)
	case target.AWS:
		tg, err = target.NewAWS(ctx)
	}
	if err != nil {
		t.Fatalf("target %s: %v", name, err)
	}
	return tg
}

// LocalStackImage is the LocalStack image started when none is running.
const LocalStackImage = "localstack/localstack:4.4"

var (
	startedLocalStack     string
	startedLocalStackErr  error
	startedLocalStackOnce sync.Once
)

// newLocalStack returns the LocalStack target at LOCALSTACK_ENDPOINT (or the default
// endpoint), starting one LocalStack container for the test binary when nothing answers
// there and a Docker engine can; the test is skipped, saying why, when neither holds.
func newLocalStack(ctx context.Context, t testing.TB) (*target.Target, error) {
	endpoint := os.Getenv(target.LocalStackEndpointEnv)
	if endpoint == "" {
		endpoint = target.DefaultLocalStackEndpoint
	}
	if !target.LocalStackHealthy(ctx, endpoint) {
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
	return target.NewLocalStack(ctx, endpoint)
}

// localStackSkipReason says why the localstack target cannot run here: nothing answers at
// the endpoint and no Docker engine can start LocalStack. Empty when it can run.
func localStackSkipReason(endpoint string, dockerErr error) string {
	if dockerErr == nil {
		return ""
	}
	return fmt.Sprintf("localstack target: nothing answers at %s and no Docker engine is available to start %s (%v); start LocalStack yourself and set %s, or run on a machine with a Docker engine",
		endpoint, LocalStackImage, dockerErr, target.LocalStackEndpointEnv)
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
