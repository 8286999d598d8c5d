// Package auth verifies the bearer tokens of the upload API: RS256 JWTs issued by a Cognito
// user pool (on AWS or on the emulator), checked against the pool's JWKS.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Config says which tokens a Verifier accepts.
type Config struct {
	// Issuer is the exact iss claim, e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>.
	Issuer string
	// Audiences are the app client ids accepted: an id token's aud or an access token's
	// client_id must be one of them.
	Audiences []string
	// JWKSURL is where the signing keys are published; Issuer + "/.well-known/jwks.json"
	// when empty. The emulator serves them under its own endpoint, not under the issuer.
	JWKSURL string
	// HTTPClient fetches the JWKS; http.DefaultClient when nil. Each fetch is bounded by
	// FetchTimeout.
	HTTPClient HTTPClient
	// FetchTimeout bounds one JWKS fetch; 10 s when zero.
	FetchTimeout time.Duration
	// Leeway tolerates clock skew on exp, nbf and iat; 30 s when zero.
	Leeway time.Duration
	// MaxKeyAge is how long fetched keys are used before they are fetched again; 1 h when zero.
	MaxKeyAge time.Duration
	// MinRefetch spaces fetches caused by an unknown key id, so that tokens with made-up
	// key ids cannot make the API hammer the JWKS endpoint; 30 s when zero.
	MinRefetch time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// HTTPClient is what fetches the JWKS: *http.Client, or the AWS SDK's client (which trusts
// AWS_CA_BUNDLE, as the emulator's JWKS endpoint needs).
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Claims are what the API needs from a verified token.
type Claims struct {
	Subject   string // the owner of the caller's media
	TokenUse  string // "id" or "access"
	ClientID  string // the app client the token was issued to
	Username  string
	Email     string
	ExpiresAt time.Time
}

// Error is a token that was refused; Reason is safe to show the caller.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNoToken is returned when the request carries no bearer token at all.
var ErrNoToken = &Error{Reason: "missing bearer token: send Authorization: Bearer <JWT>"}

// Verifier checks tokens; it is safe for concurrent use.
type Verifier struct {
	cfg Config

	mu          sync.RWMutex
	keys        jwk.Set
	fetchedAt   time.Time
	lastAttempt time.Time
	fetchMu     sync.Mutex // one fetch at a time; readers keep using the old keys meanwhile
}

// NewVerifier returns a Verifier; keys are fetched on first use, so that a JWKS endpoint that
// is briefly unreachable at start-up does not keep the server from starting.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("auth: issuer is required")
	}
	if len(cfg.Audiences) == 0 {
		return nil, errors.New("auth: at least one audience (app client id) is required")
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/jwks.json"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.MaxKeyAge == 0 {
		cfg.MaxKeyAge = time.Hour
	}
	if cfg.MinRefetch == 0 {
		cfg.MinRefetch = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{cfg: cfg}, nil
}

// JWKSURL is where the verifier fetches its keys.
func (v *Verifier) JWKSURL() string { return v.cfg.JWKSURL }

// BearerToken extracts the token of an Authorization: Bearer header.
func BearerToken(h http.Header) (string, error) {
	value := h.Get("Authorization")
	if value == "" {
		return "", ErrNoToken
	}
	scheme, token, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", &Error{Reason: "malformed Authorization header: expected Bearer <JWT>"}
	}
	return strings.TrimSpace(token), nil
}

// Verify checks the token's signature, issuer, lifetime, token_use and audience.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if raw == "" {
		return Claims{}, ErrNoToken
	}
	tok, err := jwt.ParseString(raw,
		jwt.WithKeyProvider(jws.KeyProviderFunc(v.provideKey)),
		jwt.WithValidate(true),
		jwt.WithIssuer(v.cfg.Issuer),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
		jwt.WithAcceptableSkew(v.cfg.Leeway),
		jwt.WithClock(jwt.ClockFunc(v.cfg.Now)),
		jwt.WithContext(ctx),
	)
	if err != nil {
		return Claims{}, classify(err)
	}

	var c Claims
	c.Subject, _ = tok.Subject()
	c.ExpiresAt, _ = tok.Expiration()
	_ = tok.Get("token_use", &c.TokenUse)
	_ = tok.Get("username", &c.Username)
	if c.Username == "" {
		_ = tok.Get("cognito:username", &c.Username)
	}
	_ = tok.Get("email", &c.Email)
	switch c.TokenUse {
	case "id":
		aud, _ := tok.Audience()
		for _, a := range aud {
			if slices.Contains(v.cfg.Audiences, a) {
				c.ClientID = a
			}
		}
		if c.ClientID == "" {
			return Claims{}, &Error{Reason: "token audience is not this API's app client"}
		}
	case "access":
		// Cognito access tokens carry the app client in client_id and have no aud.
		_ = tok.Get("client_id", &c.ClientID)
		if !slices.Contains(v.cfg.Audiences, c.ClientID) {
			return Claims{}, &Error{Reason: "token client_id is not this API's app client"}
		}
	default:
		return Claims{}, &Error{Reason: `token_use must be "id" or "access"`}
	}
	if strings.TrimSpace(c.Subject) == "" {
		return Claims{}, &Error{Reason: "token has an empty subject"}
	}
	return c, nil
}

func classify(err error) error {
	var authErr *Error
	var unavailable *UnavailableError
	switch {
	case errors.As(err, &unavailable):
		return unavailable
	case errors.As(err, &authErr):
		return authErr
	case errors.Is(err, jwt.TokenExpiredError()):
		return &Error{Reason: "token has expired", Err: err}
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return &Error{Reason: "token is not valid yet", Err: err}
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return &Error{Reason: "token is issued in the future", Err: err}
	case errors.Is(err, jwt.InvalidIssuerError()):
		return &Error{Reason: "token was not issued by the configured issuer", Err: err}
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return &Error{Reason: "token lacks a required claim (exp, sub)", Err: err}
	}
	return &Error{Reason: "token signature or format is invalid", Err: err}
}

// provideKey hands jws the RS256 key named by the token's kid. Refusing any other algorithm
// here, before a key is chosen, is what keeps alg=none and HS256-with-the-public-key out.
func (v *Verifier) provideKey(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok || alg != jwa.RS256() {
		return &Error{Reason: fmt.Sprintf("token algorithm %q is not accepted: only RS256", alg.String())}
	}
	kid, ok := h.KeyID()
	if !ok || kid == "" {
		return &Error{Reason: "token header has no key id (kid)"}
	}
	key, err := v.key(ctx, kid)
	if err != nil {
		return err
	}
	sink.Key(jwa.RS256(), key)
	return nil
}

// key returns the public key with id kid, fetching the JWKS when the keys are missing, old,
// or lack kid (the pool rotated its keys).
func (v *Verifier) key(ctx context.Context, kid string) (jwk.Key, error) {
	v.mu.RLock()
	keys, fetchedAt := v.keys, v.fetchedAt
	v.mu.RUnlock()
	now := v.cfg.Now()
	if keys != nil && now.Sub(fetchedAt) < v.cfg.MaxKeyAge {
		if k, ok := keys.LookupKeyID(kid); ok {
			return k, nil
		}
	}

	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.RLock()
	keys, fetchedAt, lastAttempt := v.keys, v.fetchedAt, v.lastAttempt
	v.mu.RUnlock()
	if keys != nil {
		k, found := keys.LookupKeyID(kid)
		switch {
		case found && now.Sub(fetchedAt) < v.cfg.MaxKeyAge:
			return k, nil // another request fetched meanwhile
		case now.Sub(lastAttempt) < v.cfg.MinRefetch:
			// Fetched too recently to try again: answer from what we have.
			if found {
				return k, nil
			}
			return nil, &Error{Reason: fmt.Sprintf("token key id %q is not in the issuer's JWKS", kid)}
		}
	}

	fetchCtx, cancel := context.WithTimeout(ctx, v.cfg.FetchTimeout)
	set, err := jwk.Fetch(fetchCtx, v.cfg.JWKSURL, jwk.WithHTTPClient(v.cfg.HTTPClient))
	cancel()
	v.mu.Lock()
	v.lastAttempt = now
	if err == nil {
		v.keys, v.fetchedAt = set, now
	}
	v.mu.Unlock()
	if err != nil {
		if keys != nil { // keep verifying with the old keys while the endpoint is down
			if k, ok := keys.LookupKeyID(kid); ok {
				return k, nil
			}
		}
		return nil, &UnavailableError{Err: fmt.Errorf("fetch JWKS %s: %w", v.cfg.JWKSURL, err)}
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, &Error{Reason: fmt.Sprintf("token key id %q is not in the issuer's JWKS", kid)}
}

// UnavailableError means the keys could not be fetched: the token may be fine, so the API
// answers 503, not 401.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "signing keys unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }
