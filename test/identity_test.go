package test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestIdentity deploys examples/identity, signs a user in and checks that the token is one
// the upload API can verify: RS256, issued by the pool, for the client, with a key the
// pool's JWKS publishes.
func TestIdentity(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/identity", map[string]any{"allow_password_auth": true})
	ctx := context.Background()
	client := cip.NewFromConfig(tg.AWSConfig())
	poolID := terraform.OutputContext(t, context.Background(), opts, "user_pool_id")
	clientID := terraform.OutputContext(t, context.Background(), opts, "client_id")
	issuer := terraform.OutputContext(t, context.Background(), opts, "issuer_url")

	pool, err := client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &poolID})
	require.NoError(t, err)
	assert.Equal(t, int32(12), aws.ToInt32(pool.UserPool.Policies.PasswordPolicy.MinimumLength))
	appClient, err := client.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &poolID, ClientId: &clientID})
	require.NoError(t, err)
	assert.Empty(t, aws.ToString(appClient.UserPoolClient.ClientSecret), "a public client has no secret")

	email, password := "viewer@example.com", "Correct-Horse-9-Battery"
	_, err = client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: &poolID, Username: &email, MessageAction: ciptypes.MessageActionTypeSuppress,
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: &email}},
	})
	require.NoError(t, err)
	_, err = client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &poolID, Username: &email, Password: &password, Permanent: true})
	require.NoError(t, err)
	auth, err := client.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: &clientID, AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": password},
	})
	require.NoError(t, err)
	require.NotNil(t, auth.AuthenticationResult)
	idToken := aws.ToString(auth.AuthenticationResult.IdToken)

	var header struct{ Alg, Kid string }
	var claims struct {
		Iss, Aud, Sub, Email string
		TokenUse             string `json:"token_use"`
	}
	parts := strings.Split(idToken, ".")
	require.Len(t, parts, 3)
	decodeSegment(t, parts[0], &header)
	decodeSegment(t, parts[1], &claims)
	assert.Equal(t, "RS256", header.Alg)
	assert.Equal(t, clientID, claims.Aud)
	assert.Equal(t, "id", claims.TokenUse)
	assert.Equal(t, email, claims.Email)
	assert.NotEmpty(t, claims.Sub)
	assert.True(t, strings.HasSuffix(claims.Iss, "/"+poolID), "issuer %q must name the pool", claims.Iss)
	assert.True(t, strings.HasSuffix(issuer, "/"+poolID))

	// The signing key is published where the pool's issuer says (on the emulator, under its
	// own endpoint).
	jwksURL := claims.Iss + "/.well-known/jwks.json"
	if tg.Name != target.AWS {
		jwksURL = strings.TrimSuffix(tg.Env()["AWS_ENDPOINT_URL"], "/") + "/" + poolID + "/.well-known/jwks.json"
	}
	resp, err := tg.HTTPClient().Get(jwksURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var jwks struct {
		Keys []struct{ Kid, Kty, Alg string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&jwks))
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	assert.Contains(t, kids, header.Kid, "the token's key must be in the pool's JWKS")
}

func decodeSegment(t *testing.T, segment string, v any) {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(segment)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}
