package localcloud

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// DemoUser is the user `make up` and the demo sign in.
const (
	DemoUser     = "demo@example.com"
	DemoPassword = "Demo-password-1!"
)

// SignIn makes sure user exists in the pool with password (AdminCreateUser without an
// invitation, AdminSetUserPassword permanent, so that no challenge follows) and signs in
// through the app client's password flow, as an application would. It returns the ID token,
// whose audience is the client: what the upload API checks.
func SignIn(ctx context.Context, cfg aws.Config, poolID, clientID, user, password string) (string, error) {
	c := cip.NewFromConfig(cfg)
	_, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId:     &poolID,
		Username:       &user,
		MessageAction:  ciptypes.MessageActionTypeSuppress,
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: &user}, {Name: aws.String("email_verified"), Value: aws.String("true")}},
	})
	var exists *ciptypes.UsernameExistsException
	if err != nil && !errors.As(err, &exists) {
		return "", fmt.Errorf("create user %s: %w", user, err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: &poolID, Username: &user, Password: &password, Permanent: true,
	}); err != nil {
		return "", fmt.Errorf("set password of %s: %w", user, err)
	}
	// The identity module's client allows USER_PASSWORD_AUTH (allow_password_auth), not the
	// admin flow, so the app's own flow is used.
	out, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId:       &clientID,
		AuthFlow:       ciptypes.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	})
	if err != nil {
		return "", fmt.Errorf("sign in %s: %w", user, err)
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.IdToken) == "" {
		return "", fmt.Errorf("sign in %s: no token (challenge %s)", user, out.ChallengeName)
	}
	return aws.ToString(out.AuthenticationResult.IdToken), nil
}

// UserPool finds the account's user pool and an app client that allows password sign-in,
// in the home region: the ones the upload API trusts in a one-pool stack.
func (c *Cloud) UserPool(ctx context.Context) (poolID, clientID string, err error) {
	client := cip.NewFromConfig(c.cfg)
	pools := cip.NewListUserPoolsPaginator(client, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	for pools.HasMorePages() {
		page, err := pools.NextPage(ctx)
		if err != nil {
			return "", "", fmt.Errorf("list user pools: %w", err)
		}
		for _, p := range page.UserPools {
			if !c.included(aws.ToString(p.Name)) {
				continue
			}
			clients, err := client.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: p.Id, MaxResults: aws.Int32(60)})
			if err != nil {
				return "", "", fmt.Errorf("list clients of %s: %w", aws.ToString(p.Id), err)
			}
			for _, cl := range clients.UserPoolClients {
				d, err := client.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: p.Id, ClientId: cl.ClientId})
				if err != nil {
					return "", "", fmt.Errorf("describe client %s: %w", aws.ToString(cl.ClientId), err)
				}
				if slices.Contains(d.UserPoolClient.ExplicitAuthFlows, ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth) {
					return aws.ToString(p.Id), aws.ToString(cl.ClientId), nil
				}
			}
		}
	}
	return "", "", errors.New("no user pool with a client that allows password sign-in (identity.allow_password_auth)")
}

// SignIn signs user in on the stack's user pool (see UserPool) and returns the ID token;
// Endpoints reports the last one.
func (c *Cloud) SignIn(ctx context.Context, user, password string) (string, error) {
	pool, client, err := c.UserPool(ctx)
	if err != nil {
		return "", err
	}
	token, err := SignIn(ctx, c.cfg, pool, client, user, password)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.idToken = token
	c.identity = &Identity{Region: c.opts.Regions[0], UserPoolID: pool, ClientID: client, Endpoint: c.opts.Emulator.URL()}
	c.mu.Unlock()
	return token, nil
}
