package functions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoad runs a function deployed on the emulator as deployed: its configuration and
// variables reach the process, and the process acts as the function's execution role.
func TestLoad(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 7, MemoryMB: 256, Env: map[string]string{"GREETING": "hello"}})
	fn := d.load(t)

	spec := fn.Spec()
	assert.Equal(t, d.name, spec.Name)
	assert.Equal(t, fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", d.ns.Region, d.ns.AccountID, d.name), spec.ARN)
	assert.Equal(t, 7*time.Second, spec.Timeout)
	assert.Equal(t, 256, spec.MemoryMB)
	assert.Equal(t, filepath.Join(codeDir, "fn.zip"), spec.CodeZip)

	r, err := invoke(t, fn, "whoami")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s-fn-role/%s", d.ns.AccountID, d.ns.ID, d.name), r.CallerARN,
		"the function calls AWS as its execution role, session named after the function")
	env := r.Env
	assert.Equal(t, "hello", env["GREETING"])
	assert.Equal(t, d.name, env["AWS_LAMBDA_FUNCTION_NAME"])
	assert.Equal(t, "$LATEST", env["AWS_LAMBDA_FUNCTION_VERSION"])
	assert.Equal(t, "256", env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
	assert.Equal(t, "bootstrap", env["_HANDLER"])
	assert.Equal(t, d.ns.Region, env["AWS_REGION"])
	assert.Equal(t, d.ns.Region, env["AWS_DEFAULT_REGION"])
	assert.Equal(t, d.ns.Endpoint, env["AWS_ENDPOINT_URL"], "the caller's extra variables")
	assert.NotEmpty(t, env["AWS_SESSION_TOKEN"])
	assert.NotEqual(t, d.ns.Credentials.AccessKeyID, env["AWS_ACCESS_KEY_ID"], "the role's credentials, not the deployer's")
	assert.FileExists(t, filepath.Join(env["LAMBDA_TASK_ROOT"], "bootstrap"))
	assert.Equal(t, spec.ARN, r.FunctionARN)
}

// TestLoadRefusesUnbuiltCode: deployed code that no built artifact matches is not run.
func TestLoadRefusesUnbuiltCode(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{})
	// Deploy a zip that differs from the built one, as a stale or hand-made zip would.
	other, err := zipBootstrap(filepath.Join(codeDir, "bootstrap"), map[string]string{"README": "not the build"})
	require.NoError(t, err)
	_, err = lambda.NewFromConfig(d.cfg).UpdateFunctionCode(context.Background(), &lambda.UpdateFunctionCodeInput{FunctionName: &d.name, ZipFile: other})
	require.NoError(t, err)

	_, m := testFunction(t)
	_, err = Load(context.Background(), d.cfg, d.name, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "matches no artifact")
	assert.Contains(t, err.Error(), "run scripts/setup")
}

// TestLoadRefusesOtherRuntimes: only OS-only runtimes with a bootstrap are run.
func TestLoadRefusesOtherRuntimes(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{})
	_, err := lambda.NewFromConfig(d.cfg).UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: &d.name, Runtime: lambdatypes.RuntimePython312, Handler: aws.String("app.handler"),
	})
	require.NoError(t, err)
	_, m := testFunction(t)
	_, err = Load(context.Background(), d.cfg, d.name, m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `runtime "python3.12"`)
}

// TestReadManifest reads scripts/artifacts' manifest format.
func TestReadManifest(t *testing.T) {
	t.Parallel()
	_, m := testFunction(t)
	require.Len(t, m.Artifacts, 1)
	a := m.Artifacts[0]
	assert.Equal(t, "fn", a.Name)
	got, ok := m.ByCodeSha256(a.CodeSha256)
	assert.True(t, ok)
	assert.Equal(t, a, got)
	_, err := ReadManifest(filepath.Join(codeDir, "missing", "manifest.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "run scripts/setup")
}
