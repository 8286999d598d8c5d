package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Namespace isolates one test on a shared emulator. Without IAM enforcement it is an account
// of its own (moto serves the account of the role that issued the credentials), so even
// account-wide things such as the default VPC don't leak between tests. With enforcement,
// namespaces share the admin's account and are kept apart by ID, which every resource name
// must carry.
type Namespace struct {
	ID          string // unique prefix for resource names: a letter, then 8 hex digits
	AccountID   string
	Region      string
	Endpoint    string
	CABundle    string // PEM file of the CA the endpoint's certificate comes from
	Credentials aws.Credentials
}

// NewNamespace returns a fresh namespace.
func (e *Emulator) NewNamespace(ctx context.Context) (*Namespace, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	if e.admin != nil {
		ns := *e.admin
		ns.ID = id
		return &ns, nil
	}
	account, err := newAccountID()
	if err != nil {
		return nil, err
	}
	creds, err := e.assumeRole(ctx, account, id, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"})
	if err != nil {
		return nil, err
	}
	return &Namespace{ID: id, AccountID: account, Region: e.opts.Region, Endpoint: e.url, CABundle: e.ca.BundlePath, Credentials: creds}, nil
}

// NamespaceT is NewNamespace for a test.
func (e *Emulator) NamespaceT(t testing.TB) *Namespace {
	t.Helper()
	ns, err := e.NewNamespace(context.Background())
	if err != nil {
		t.Fatalf("emulator namespace: %v", err)
	}
	return ns
}

// assumeRole returns credentials that moto maps to account.
func (e *Emulator) assumeRole(ctx context.Context, account, session string, as aws.Credentials) (aws.Credentials, error) {
	cfg := e.config(as)
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/mediastack-test", account)),
		RoleSessionName: aws.String(session),
	})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("assume a role in account %s: %w", account, err)
	}
	c := out.Credentials
	return aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          "emulator",
	}, nil
}

// bootstrapAdmin spends exactly the unauthenticated calls moto allows in enforcing mode on
// an IAM user that may do everything, in an account of its own.
func (e *Emulator) bootstrapAdmin(ctx context.Context) (*Namespace, error) {
	account, err := newAccountID()
	if err != nil {
		return nil, err
	}
	roleCreds, err := e.assumeRole(ctx, account, "bootstrap", aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}) // 1
	if err != nil {
		return nil, err
	}
	client := iam.NewFromConfig(e.config(roleCreds))
	user := aws.String("harness-admin")
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: user}); err != nil { // 2
		return nil, fmt.Errorf("create admin user: %w", err)
	}
	if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{ // 3
		UserName:       user,
		PolicyName:     aws.String("everything"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`),
	}); err != nil {
		return nil, fmt.Errorf("grant admin user: %w", err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user}) // 4
	if err != nil {
		return nil, fmt.Errorf("create admin access key: %w", err)
	}
	return &Namespace{
		AccountID: account,
		Region:    e.opts.Region,
		Endpoint:  e.url,
		CABundle:  e.ca.BundlePath,
		Credentials: aws.Credentials{
			AccessKeyID:     aws.ToString(key.AccessKey.AccessKeyId),
			SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey),
			Source:          "emulator",
		},
	}, nil
}

// config is an SDK configuration for the emulator with the given credentials.
func (e *Emulator) config(creds aws.Credentials) aws.Config {
	return aws.Config{
		Region:       e.opts.Region,
		BaseEndpoint: aws.String(e.url),
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		HTTPClient:   e.ca.HTTPClient(),
	}
}

// AWSConfig returns an SDK configuration that reaches the emulator as this namespace.
func (n *Namespace) AWSConfig(ctx context.Context) (aws.Config, error) {
	bundle, err := os.ReadFile(n.CABundle)
	if err != nil {
		return aws.Config{}, fmt.Errorf("read the emulator's CA: %w", err)
	}
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(n.Region),
		config.WithBaseEndpoint(n.Endpoint),
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: n.Credentials}),
		// Explicit, so that an AWS_CA_BUNDLE of the environment does not replace it.
		config.WithCustomCABundle(bytes.NewReader(bundle)),
		// Shared config files of the developer must not leak into tests.
		config.WithSharedConfigFiles(nil),
		config.WithSharedCredentialsFiles(nil),
	)
}

// S3Client returns an S3 client for the namespace; moto needs path-style addressing.
func (n *Namespace) S3Client(ctx context.Context) (*s3.Client, error) {
	cfg, err := n.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

// Env returns the environment variables that point an AWS SDK or CLI at the namespace.
func (n *Namespace) Env() []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + n.Credentials.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + n.Credentials.SecretAccessKey,
		"AWS_REGION=" + n.Region,
		"AWS_DEFAULT_REGION=" + n.Region,
		"AWS_ENDPOINT_URL=" + n.Endpoint,
		"AWS_CA_BUNDLE=" + n.CABundle,
	}
	if n.Credentials.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+n.Credentials.SessionToken)
	}
	return env
}

func newID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "t" + hex.EncodeToString(b), nil
}

// newAccountID returns a random 12-digit account id that is not moto's default one.
func newAccountID() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(899_999_999_999))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%012d", n.Int64()+100_000_000_000), nil
}
