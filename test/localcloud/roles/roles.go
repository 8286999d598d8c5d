// Package roles gives the local cloud's processes the credentials of their IAM roles as AWS
// services do: assumed through STS, cached, and refreshed before they expire.
//
// Lambda puts a function's credentials in its environment, and retires an environment
// before they expire; Credentials is all it needs. EC2 serves an instance's credentials
// from its metadata service, where the SDKs fetch fresh ones as the old expire. The local
// stand-in is an Endpoint speaking the container credentials protocol
// (AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token), which every AWS SDK and
// the CLI read and refresh from in the same way, so that a long-running `make up` keeps
// working past the first session's hour.
package roles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The variables that point an SDK at a container credentials endpoint.
const (
	FullURIEnv = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	TokenEnv   = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
)

// SessionDuration is how long one set of a role's credentials lasts.
const SessionDuration = time.Hour

// Credentials assumes roleARN through the STS of cfg as session, cached and refreshed
// before they expire.
func Credentials(cfg aws.Config, roleARN, session string) aws.CredentialsProvider {
	return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = session
		o.Duration = SessionDuration
	}))
}

// Endpoint serves credentials over the container credentials protocol on loopback, one
// provider per authorization token.
type Endpoint struct {
	url    string
	server *http.Server
	done   chan struct{}

	mu     sync.Mutex
	grants map[string]aws.CredentialsProvider
}

// StartEndpoint listens on a free loopback port; Close stops it.
func StartEndpoint() (*Endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("credentials endpoint: %w", err)
	}
	e := &Endpoint{url: "http://" + ln.Addr().String() + "/role-credentials", done: make(chan struct{}), grants: map[string]aws.CredentialsProvider{}}
	e.server = &http.Server{Handler: http.HandlerFunc(e.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(e.done)
		_ = e.server.Serve(ln)
	}()
	return e, nil
}

// Grant serves creds to whoever holds the token it makes. env is what a process needs to
// use them: the SDKs' AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN. revoke ends the grant.
func (e *Endpoint) Grant(creds aws.CredentialsProvider) (env map[string]string, revoke func()) {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails
	token := hex.EncodeToString(b)
	e.mu.Lock()
	e.grants[token] = creds
	e.mu.Unlock()
	env = map[string]string{FullURIEnv: e.url, TokenEnv: token}
	return env, func() {
		e.mu.Lock()
		delete(e.grants, token)
		e.mu.Unlock()
	}
}

// credentialsResponse is the container credentials protocol's answer.
type credentialsResponse struct {
	AccessKeyID     string     `json:"AccessKeyId"`
	SecretAccessKey string     `json:"SecretAccessKey"`
	Token           string     `json:"Token"`
	Expiration      *time.Time `json:"Expiration,omitempty"`
}

func (e *Endpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	creds, ok := e.grants[r.Header.Get("Authorization")]
	e.mu.Unlock()
	if r.Method != http.MethodGet || !ok {
		writeError(w, http.StatusForbidden, "AccessDenied", "unknown or revoked authorization token")
		return
	}
	c, err := creds.Retrieve(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "CredentialsError", err.Error())
		return
	}
	resp := credentialsResponse{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken}
	if c.CanExpire {
		resp.Expiration = &c.Expires
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": message})
}

// Close stops serving; grants end with it.
func (e *Endpoint) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.server.Shutdown(ctx)
	<-e.done
	return err
}

// Fetched returns the credentials a process given env (Grant's) fetches from the endpoint,
// as the SDKs do with those variables.
func Fetched(env map[string]string) aws.CredentialsProvider {
	return aws.NewCredentialsCache(endpointcreds.New(env[FullURIEnv], func(o *endpointcreds.Options) {
		o.AuthorizationToken = env[TokenEnv]
	}))
}
