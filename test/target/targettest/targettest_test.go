package targettest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

func TestLocalStackSkipsWithoutDockerEngine(t *testing.T) {
	reason := localStackSkipReason("http://localhost:4566", errors.New("Cannot connect to the Docker daemon"))
	assert.Contains(t, reason, "no Docker engine")
	assert.Contains(t, reason, "http://localhost:4566")
	assert.Contains(t, reason, target.LocalStackEndpointEnv)
	assert.Empty(t, localStackSkipReason("http://localhost:4566", nil), "with an engine, LocalStack is started instead")
}
