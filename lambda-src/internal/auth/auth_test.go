package auth_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth/authtest"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

func newVerifier(t *testing.T, iss *authtest.Issuer, mutate ...func(*auth.Config)) *auth.Verifier {
	t.Helper()
	cfg := auth.Config{Issuer: iss.URL, Audiences: []string{authtest.ClientID}}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := auth.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

func TestVerifyAcceptsIDAndAccessTokens(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss)
	ctx := context.Background()

	c, err := v.Verify(ctx, iss.IDToken(t, "user-1"))
	require.NoError(t, err)
	assert.Equal(t, "user-1", c.Subject)
	assert.Equal(t, "id", c.TokenUse)
	assert.Equal(t, authtest.ClientID, c.ClientID)
	assert.WithinDuration(t, time.Now().Add(time.Hour), c.ExpiresAt, time.Minute)

	access := iss.Claims("user-2")
	delete(access, "aud")
	access["token_use"] = "access"
	access["client_id"] = authtest.ClientID
	c, err = v.Verify(ctx, iss.Sign(t, access))
	require.NoError(t, err)
	assert.Equal(t, "user-2", c.Subject)
	assert.Equal(t, "access", c.TokenUse)
	assert.Equal(t, authtest.ClientID, c.ClientID)
}

// TestVerifyRefuses covers every way a token can be wrong; each must be refused with a
// reason that says which.
func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	v := newVerifier(t, iss)
	otherKey := authtest.NewKey(t)
	with := func(change func(map[string]any)) map[string]any {
		c := iss.Claims("user-1")
		change(c)
		return c
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&iss.Key.PublicKey)
	require.NoError(t, err)

	cases := []struct {
		name   string
		token  string
		reason string
	}{
		{"empty", "", "missing bearer token"},
		{"garbage", "not-a-jwt", "signature or format is invalid"},
		{"wrong issuer", iss.Sign(t, with(func(c map[string]any) { c["iss"] = "https://cognito-idp.eu-west-1.amazonaws.com/other" })), "not issued by the configured issuer"},
		{"no issuer", iss.Sign(t, with(func(c map[string]any) { delete(c, "iss") })), "not issued by the configured issuer"},
		{"wrong audience", iss.Sign(t, with(func(c map[string]any) { c["aud"] = "another-client" })), "audience is not this API's app client"},
		{"access token for another client", iss.Sign(t, with(func(c map[string]any) {
			delete(c, "aud")
			c["token_use"], c["client_id"] = "access", "another-client"
		})), "client_id is not this API's app client"},
		{"access token whose aud names the client but client_id not", iss.Sign(t, with(func(c map[string]any) {
			c["token_use"] = "access"
		})), "client_id is not this API's app client"},
		{"refresh-like token_use", iss.Sign(t, with(func(c map[string]any) { c["token_use"] = "refresh" })), "token_use must be"},
		{"no token_use", iss.Sign(t, with(func(c map[string]any) { delete(c, "token_use") })), "token_use must be"},
		{"expired", iss.Sign(t, with(func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() })), "expired"},
		{"not yet valid", iss.Sign(t, with(func(c map[string]any) { c["nbf"] = time.Now().Add(10 * time.Minute).Unix() })), "not valid yet"},
		{"no expiry", iss.Sign(t, with(func(c map[string]any) { delete(c, "exp") })), "lacks a required claim"},
		{"no subject", iss.Sign(t, with(func(c map[string]any) { delete(c, "sub") })), "lacks a required claim"},
		{"blank subject", iss.Sign(t, with(func(c map[string]any) { c["sub"] = "  " })), "empty subject"},
		{"bad signature: another key under the published kid", authtest.SignWith(t, iss.Claims("user-1"), jwa.RS256(), otherKey, iss.KeyID), "signature or format is invalid"},
		{"tampered payload", tamper(t, iss.IDToken(t, "user-1")), "signature or format is invalid"},
		{"alg none", unsigned(t, iss.Claims("user-1"), iss.KeyID), "only RS256"},
		{"HS256 keyed with the public key", authtest.SignWith(t, iss.Claims("user-1"), jwa.HS256(), pubDER, iss.KeyID), "only RS256"},
		{"RS512", authtest.SignWith(t, iss.Claims("user-1"), jwa.RS512(), iss.Key, iss.KeyID), "only RS256"},
		{"no kid", authtest.SignWith(t, iss.Claims("user-1"), jwa.RS256(), iss.Key, ""), "no key id"},
		{"unknown kid", authtest.SignWith(t, iss.Claims("user-1"), jwa.RS256(), otherKey, "key-unknown"), `key id "key-unknown" is not in the issuer's JWKS`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			require.Error(t, err)
			var authErr *auth.Error
			require.True(t, errors.As(err, &authErr), "want *auth.Error, got %T: %v", err, err)
			assert.Contains(t, authErr.Reason, tc.reason)
		})
	}
}

// tamper changes the subject without re-signing.
func tamper(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	payload = []byte(strings.Replace(string(payload), `"user-1"`, `"admin-1"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// unsigned builds an alg=none token by hand: jws refuses to make one.
func unsigned(t *testing.T, claims map[string]any, kid string) string {
	signed := authtest.SignWith(t, claims, jwa.RS256(), authtest.NewKey(t), kid)
	payload := strings.Split(signed, ".")[1]
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + kid + `","typ":"JWT"}`))
	return header + "." + payload + "."
}

func TestKeysAreCachedAndRefetchedOnRotation(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v := newVerifier(t, iss, func(c *auth.Config) { c.Now = clock; c.MinRefetch = time.Minute; c.MaxKeyAge = time.Hour })
	ctx := context.Background()

	for range 5 {
		_, err := v.Verify(ctx, iss.IDToken(t, "u"))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), iss.Hits(), "keys must be fetched once and cached")

	// The pool rotates: a new key signs, the old one is still published.
	rotated := authtest.NewKey(t)
	iss.Publish(t, map[string]*rsa.PrivateKey{iss.KeyID: iss.Key, "key-2": rotated})
	tok := authtest.SignWith(t, iss.Claims("u"), jwa.RS256(), rotated, "key-2")
	now = now.Add(2 * time.Minute)
	_, err := v.Verify(ctx, tok)
	require.NoError(t, err, "an unknown kid must trigger a fetch of the JWKS")
	assert.Equal(t, int64(2), iss.Hits())

	// Made-up kids must not make every request fetch.
	forged := authtest.SignWith(t, iss.Claims("u"), jwa.RS256(), rotated, "key-forged")
	for range 3 {
		_, err = v.Verify(ctx, forged)
		require.Error(t, err)
	}
	assert.Equal(t, int64(2), iss.Hits(), "fetches for unknown kids are rate limited")
	now = now.Add(2 * time.Minute)
	_, err = v.Verify(ctx, forged)
	require.Error(t, err)
	assert.Equal(t, int64(3), iss.Hits(), "after MinRefetch an unknown kid may fetch again")

	// Old keys keep working while the endpoint is down.
	iss.SetDown(true)
	now = now.Add(2 * time.Hour)
	late := iss.Claims("u")
	late["iat"], late["exp"] = now.Unix(), now.Add(time.Hour).Unix()
	_, err = v.Verify(ctx, iss.Sign(t, late))
	require.NoError(t, err, "known keys stay usable when a refresh fails")
}

func TestUnreachableJWKSIsUnavailableNotUnauthorized(t *testing.T) {
	t.Parallel()
	iss := authtest.NewIssuer(t)
	iss.SetDown(true)
	v := newVerifier(t, iss)
	_, err := v.Verify(context.Background(), iss.IDToken(t, "u"))
	var unavailable *auth.UnavailableError
	require.True(t, errors.As(err, &unavailable), "got %T: %v", err, err)
	assert.Contains(t, err.Error(), iss.JWKSURL())
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header, token, err string
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", ""},
		{"bearer   abc.def.ghi ", "abc.def.ghi", ""},
		{"", "", "missing bearer token"},
		{"Basic dXNlcjpwdw==", "", "expected Bearer"},
		{"Bearer ", "", "expected Bearer"},
		{"abc.def.ghi", "", "expected Bearer"},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Authorization", tc.header)
		}
		tok, err := auth.BearerToken(h)
		if tc.err == "" {
			assert.NoError(t, err, tc.header)
			assert.Equal(t, tc.token, tok)
		} else {
			assert.ErrorContains(t, err, tc.err, tc.header)
		}
	}
}

func TestNewVerifierNeedsIssuerAndAudience(t *testing.T) {
	t.Parallel()
	_, err := auth.NewVerifier(auth.Config{Audiences: []string{"x"}})
	assert.ErrorContains(t, err, "issuer")
	_, err = auth.NewVerifier(auth.Config{Issuer: "https://example.com"})
	assert.ErrorContains(t, err, "audience")
	v, err := auth.NewVerifier(auth.Config{Issuer: "https://cognito-idp.us-east-1.amazonaws.com/pool/", Audiences: []string{"x"}})
	require.NoError(t, err)
	assert.Equal(t, "https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json", v.JWKSURL())
}

// TestCognitoTokensFromTheEmulator signs users in on the emulator's Cognito and verifies
// their real id and access tokens against the pool's JWKS.
func TestCognitoTokensFromTheEmulator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.Shared(t)
	ns := e.NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	client := cip.NewFromConfig(cfg)

	pool, err := client.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(ns.ID + "-users")})
	require.NoError(t, err)
	poolID := aws.ToString(pool.UserPool.Id)
	newClient := func(name string) string {
		out, err := client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: &poolID, ClientName: aws.String(name),
			ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		})
		require.NoError(t, err)
		return aws.ToString(out.UserPoolClient.ClientId)
	}
	appClient, otherClient := newClient("app"), newClient("other")

	username, password := "viewer@example.com", "Correct-Horse-9-Battery"
	_, err = client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &poolID, Username: &username, MessageAction: ciptypes.MessageActionTypeSuppress})
	require.NoError(t, err)
	_, err = client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &poolID, Username: &username, Password: &password, Permanent: true})
	require.NoError(t, err)
	user, err := client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &poolID, Username: &username})
	require.NoError(t, err)
	var sub string
	for _, a := range user.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			sub = aws.ToString(a.Value)
		}
	}
	require.NotEmpty(t, sub)
	signIn := func(clientID string) *ciptypes.AuthenticationResultType {
		out, err := client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
			UserPoolId: &poolID, ClientId: &clientID, AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
		})
		require.NoError(t, err)
		require.NotNil(t, out.AuthenticationResult)
		return out.AuthenticationResult
	}

	// On AWS the issuer serves its keys itself; the emulator serves them under its endpoint.
	issuer := "https://cognito-idp." + ns.Region + ".amazonaws.com/" + poolID
	verifier, err := auth.NewVerifier(auth.Config{
		Issuer:     issuer,
		Audiences:  []string{appClient},
		JWKSURL:    e.URL() + "/" + poolID + "/.well-known/jwks.json",
		HTTPClient: e.CA().HTTPClient(),
	})
	require.NoError(t, err)

	tokens := signIn(appClient)
	for name, tok := range map[string]string{"id": aws.ToString(tokens.IdToken), "access": aws.ToString(tokens.AccessToken)} {
		c, err := verifier.Verify(ctx, tok)
		require.NoError(t, err, "%s token", name)
		assert.Equal(t, sub, c.Subject, "%s token", name)
		assert.Equal(t, name, c.TokenUse)
		assert.Equal(t, appClient, c.ClientID)
	}

	other := signIn(otherClient)
	for name, tok := range map[string]string{"id": aws.ToString(other.IdToken), "access": aws.ToString(other.AccessToken)} {
		_, err := verifier.Verify(ctx, tok)
		var authErr *auth.Error
		require.True(t, errors.As(err, &authErr), "%s token of another client must be refused, got %v", name, err)
		assert.Contains(t, authErr.Reason, "not this API's app client")
	}

	wrongIssuer, err := auth.NewVerifier(auth.Config{
		Issuer: issuer + "-elsewhere", Audiences: []string{appClient},
		JWKSURL: e.URL() + "/" + poolID + "/.well-known/jwks.json", HTTPClient: e.CA().HTTPClient(),
	})
	require.NoError(t, err)
	_, err = wrongIssuer.Verify(ctx, aws.ToString(tokens.IdToken))
	assert.ErrorContains(t, err, "not issued by the configured issuer")
}
