package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdnsign"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// Run connects to the database (credentials from the managed secret), applies the
// migrations, and serves the API on cfg.ListenAddr until ctx ends; then it stops accepting
// connections and lets requests in flight finish for up to cfg.ShutdownTimeout.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	secrets := store.SecretsClient(awsCfg, cfg.DBSecretARN)
	dbCfg, err := store.ConfigFromSecret(ctx, secrets, cfg.DBSecretARN, cfg.DBHost, cfg.DBPort, cfg.DBName)
	if err != nil {
		return fmt.Errorf("database credentials from %s: %w", cfg.DBSecretARN, err)
	}
	dbCfg.ReplicaHost, dbCfg.ReplicaPort = cfg.DBReadHost, cfg.DBReadPort
	st, err := store.Open(ctx, dbCfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	if cfg.Region == cfg.HomeRegion { // the home held everything before regions were recorded
		n, err := st.ClaimUnrecorded(ctx, cfg.Region, cfg.CDNBaseURL, cfg.CDNKeyPairID)
		if err != nil {
			return err
		}
		if n > 0 {
			logger.Info("recorded this region as the holder of earlier media", "media", n)
		}
	}

	signer, err := cdnSigner(ctx, cfg, store.SecretsClient(awsCfg, cfg.CDNPrivateKeySecretARN))
	if err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(auth.Config{
		Issuer:    cfg.JWTIssuer,
		Audiences: cfg.JWTAudiences,
		JWKSURL:   cfg.JWTJWKSURL,
		// The SDK's client trusts AWS_CA_BUNDLE: on the local cloud, the emulator serves the
		// JWKS with the same certificate as the AWS APIs.
		HTTPClient: awsCfg.HTTPClient,
	})
	if err != nil {
		return err
	}
	s3Client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.S3PathStyle })
	deps := Deps{
		Store:     st,
		Bucket:    s3Client,
		Presigner: s3.NewPresignClient(s3Client),
		Verifier:  verifier,
		Logger:    logger,
		CDN:       cloudfront.NewFromConfig(awsCfg),
		Events:    sns.NewFromConfig(awsCfg),
	}
	if signer != nil { // a nil *Signer in the interface would not compare equal to nil
		deps.Signer = signer
	}
	srv, err := New(cfg, deps)
	if err != nil {
		return err
	}
	return Serve(ctx, srv.HTTPServer(), cfg, logger)
}

// Serve runs hs until ctx ends, then shuts it down gracefully.
func Serve(ctx context.Context, hs *http.Server, cfg Config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	logger.Info("listening", "addr", ln.Addr().String(), "jwt_issuer", cfg.JWTIssuer,
		"originals_bucket", cfg.OriginalsBucket, "signed_cdn_urls", cfg.SignsCDNURLs())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func cdnSigner(ctx context.Context, cfg Config, secrets *secretsmanager.Client) (*cdnsign.Signer, error) {
	if !cfg.SignsCDNURLs() {
		return nil, nil
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &cfg.CDNPrivateKeySecretARN})
	if err != nil {
		return nil, fmt.Errorf("read CDN signing key %s: %w", cfg.CDNPrivateKeySecretARN, err)
	}
	key, err := cdnsign.ParsePrivateKey([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return nil, fmt.Errorf("CDN signing key %s: %w", cfg.CDNPrivateKeySecretARN, err)
	}
	return cdnsign.New(cfg.CDNKeyPairID, key)
}
