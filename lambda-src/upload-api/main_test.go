package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// The tests run this very binary as the server: with runAsMainEnv set, TestMain is main.
const runAsMainEnv = "UPLOAD_API_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(emulator.RunMain(m))
}

// start runs the server with env, bound to the test binary's life (also when it is killed).
func start(t *testing.T, env []string) *procs.Process {
	t.Helper()
	return procs.StartT(t, procs.Spec{Name: "upload-api", Path: os.Args[0], Args: []string{"-test.run=^$"}, Env: append([]string{runAsMainEnv + "=1"}, env...)})
}

// exited waits for p to end by itself and returns its exit error.
func exited(t *testing.T, p *procs.Process, within time.Duration) error {
	t.Helper()
	select {
	case <-p.Done():
		return p.ExitErr()
	case <-time.After(within):
		t.Fatalf("the server still runs after %s", within)
		return nil
	}
}

// TestServesFromTheEnvironmentAndStopsOnSIGTERM runs the real program against the emulator
// and PostgreSQL: database credentials from the managed secret, migrations at start,
// Cognito tokens checked against the pool's JWKS, a presigned upload that lands in the
// bucket, and a clean exit on SIGTERM.
func TestServesFromTheEnvironmentAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.Shared(t)
	ns := e.NamespaceT(t)
	awsCfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	s3c, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket := ns.ID + "-originals"
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)

	pg := postgres.StartT(t)
	db := pg.DatabaseT(t)
	sm := secretsmanager.NewFromConfig(awsCfg)
	dbSecret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(ns.ID + "-db"),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, db.User, db.Password)),
	})
	require.NoError(t, err)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keySecret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(ns.ID + "-cdn-key"),
		SecretString: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))),
	})
	require.NoError(t, err)

	idp := cip.NewFromConfig(awsCfg)
	pool, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(ns.ID + "-users")})
	require.NoError(t, err)
	poolID := aws.ToString(pool.UserPool.Id)
	appClient, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: &poolID, ClientName: aws.String("app"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth},
	})
	require.NoError(t, err)
	clientID := aws.ToString(appClient.UserPoolClient.ClientId)
	username, password := "uploader", "Correct-Horse-9-Battery"
	_, err = idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &poolID, Username: &username, MessageAction: ciptypes.MessageActionTypeSuppress})
	require.NoError(t, err)
	_, err = idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &poolID, Username: &username, Password: &password, Permanent: true})
	require.NoError(t, err)
	signIn, err := idp.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: &poolID, ClientId: &clientID, AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
	})
	require.NoError(t, err)
	idToken := aws.ToString(signIn.AuthenticationResult.IdToken)
	accessToken := aws.ToString(signIn.AuthenticationResult.AccessToken)

	addr := freeAddr(t)
	server := start(t, append(ns.Env(),
		"ORIGINALS_BUCKET="+bucket,
		"DERIVATIVES_BUCKET="+ns.ID+"-derivatives",
		"DB_SECRET_ARN="+aws.ToString(dbSecret.ARN),
		"DB_HOST="+db.Host, fmt.Sprintf("DB_PORT=%d", db.Port), "DB_NAME="+db.Name,
		"CDN_BASE_URL=https://d111111abcdef8.cloudfront.net",
		"CDN_KEY_PAIR_ID=KTESTKEYPAIR", "CDN_PRIVATE_KEY_SECRET_ARN="+aws.ToString(keySecret.ARN),
		"JWT_ISSUER=https://cognito-idp."+ns.Region+".amazonaws.com/"+poolID,
		"JWT_AUDIENCE="+clientID,
		// The emulator serves the pool's keys under its own endpoint, not the issuer's host.
		"JWT_JWKS_URL="+ns.Endpoint+"/"+poolID+"/.well-known/jwks.json",
		"LISTEN_ADDR="+addr,
	))
	base := "http://" + addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "the server must come up")

	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "database and bucket are reachable")

	video := bytes.Repeat([]byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p'}, 512)
	var created struct {
		MediaID string `json:"media_id"`
		Upload  struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"upload"`
	}
	status := call(t, http.MethodPost, base+"/v1/uploads", idToken,
		fmt.Sprintf(`{"filename":"phone.mp4","content_type":"video/mp4","size_bytes":%d,"title":"From the phone"}`, len(video)), &created)
	require.Equal(t, http.StatusCreated, status)

	put, err := http.NewRequest(http.MethodPut, created.Upload.URL, bytes.NewReader(video))
	require.NoError(t, err)
	for k, v := range created.Upload.Headers {
		put.Header.Set(k, v)
	}
	putResp, err := e.CA().HTTPClient().Do(put)
	require.NoError(t, err)
	putResp.Body.Close()
	require.Equal(t, http.StatusOK, putResp.StatusCode)

	var media map[string]any
	status = call(t, http.MethodGet, base+"/v1/media/"+created.MediaID, accessToken, "", &media)
	require.Equal(t, http.StatusOK, status, "an access token of the same user works too")
	user, err := idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: &username})
	require.NoError(t, err)
	for _, a := range user.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			assert.Equal(t, aws.ToString(a.Value), media["owner"], "the owner is the token's subject")
			_, err = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("uploads/" + aws.ToString(a.Value) + "/" + created.MediaID + "/original")})
			assert.NoError(t, err, "the original is at the owner's key")
		}
	}
	assert.Equal(t, "pending_upload", media["status"])
	assert.Equal(t, "From the phone", media["title"])

	status = call(t, http.MethodGet, base+"/v1/media", "", "", nil)
	assert.Equal(t, http.StatusUnauthorized, status)

	require.NoError(t, syscall.Kill(server.PID(), syscall.SIGTERM))
	require.NoError(t, exited(t, server, 20*time.Second), "a clean exit after SIGTERM")
	out := string(server.Output())
	var messages []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "every log line is JSON: %s", line)
		messages = append(messages, fmt.Sprint(entry["msg"]))
		if entry["msg"] == "listening" {
			assert.Equal(t, true, entry["signed_cdn_urls"])
		}
	}
	assert.Subset(t, messages, []string{"listening", "request", "shutting down", "stopped"})
	assert.NotContains(t, out, db.Password, "the database password is never logged")
	assert.NotContains(t, out, idToken)
}

func TestBadConfigurationExitsNamingTheVariables(t *testing.T) {
	t.Parallel()
	server := start(t, []string{"DB_PORT=none", "AWS_REGION=us-east-1"})
	var exit *exec.ExitError
	err := exited(t, server, 20*time.Second)
	require.True(t, errors.As(err, &exit), "the server must refuse to start; got %v", err)
	assert.Equal(t, 2, exit.ExitCode())
	out := string(server.Output())
	for _, want := range []string{"ORIGINALS_BUCKET: is required", "DB_SECRET_ARN: is required", "DB_PORT: must be an integer from 1 to 65535", "JWT_ISSUER: is required", "JWT_AUDIENCE: is required", "CDN_BASE_URL: is required"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "AWS_REGION: is required")
}

func call(t *testing.T, method, url, token, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(data, out), "body: %s", data)
	}
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
