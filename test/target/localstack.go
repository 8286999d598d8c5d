package target

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// DefaultLocalStackEndpoint is where a running LocalStack answers unless LOCALSTACK_ENDPOINT
// says otherwise.
const DefaultLocalStackEndpoint = "http://localhost:4566"

// localStackCredentials: LocalStack maps the access key "000000000000" to its default account.
var localStackCredentials = aws.Credentials{AccessKeyID: "000000000000", SecretAccessKey: "test", Source: "localstack"}

// NewLocalStack returns the LocalStack target at endpoint, a LocalStack that answers there.
func NewLocalStack(ctx context.Context, endpoint string) (*Target, error) {
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

// LocalStackHealthy reports whether a LocalStack answers its health check at endpoint.
func LocalStackHealthy(ctx context.Context, endpoint string) bool {
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
