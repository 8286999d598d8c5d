// Package authtest is a stand-in token issuer for tests: an RSA key whose JWKS an httptest
// server publishes in Cognito's layout, and tokens shaped like Cognito's, signed with it.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// ClientID is the audience Issuer's tokens carry by default.
const ClientID = "test-app-client"

// Issuer signs tokens and serves their JWKS at URL + "/.well-known/jwks.json".
type Issuer struct {
	URL    string
	KeyID  string
	Key    *rsa.PrivateKey
	server *httptest.Server
	hits   atomic.Int64
	keys   atomic.Pointer[[]byte] // the JWKS document served
	down   atomic.Bool
}

// NewIssuer starts an issuer for the test.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss := &Issuer{KeyID: "key-1"}
	iss.Key = NewKey(t)
	iss.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		iss.hits.Add(1)
		if iss.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*iss.keys.Load())
	}))
	t.Cleanup(iss.server.Close)
	iss.URL = iss.server.URL
	iss.Publish(t, map[string]*rsa.PrivateKey{iss.KeyID: iss.Key})
	return iss
}

// NewKey returns a fresh RSA 2048 key.
func NewKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	return k
}

// Publish replaces the served JWKS with the public halves of keys, named by their kid.
func (iss *Issuer) Publish(t testing.TB, keys map[string]*rsa.PrivateKey) {
	t.Helper()
	set := jwk.NewSet()
	for kid, k := range keys {
		pub, err := jwk.Import(&k.PublicKey)
		if err != nil {
			t.Fatalf("import key: %v", err)
		}
		for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.RS256(), jwk.KeyUsageKey: "sig"} {
			if err := pub.Set(name, v); err != nil {
				t.Fatalf("set %s: %v", name, err)
			}
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatalf("add key: %v", err)
		}
	}
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("marshal JWKS: %v", err)
	}
	iss.keys.Store(&doc)
}

// JWKSURL is where the keys are served.
func (iss *Issuer) JWKSURL() string { return iss.URL + "/.well-known/jwks.json" }

// Hits counts JWKS requests.
func (iss *Issuer) Hits() int64 { return iss.hits.Load() }

// SetDown makes the JWKS endpoint answer 503 (or serve again).
func (iss *Issuer) SetDown(down bool) { iss.down.Store(down) }

// Claims are Cognito-like id token claims for subject, valid for an hour from now.
func (iss *Issuer) Claims(subject string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":              iss.URL,
		"sub":              subject,
		"aud":              ClientID,
		"token_use":        "id",
		"cognito:username": subject,
		"iat":              now.Unix(),
		"auth_time":        now.Unix(),
		"exp":              now.Add(time.Hour).Unix(),
		"jti":              uuid.NewString(),
	}
}

// IDToken is a valid id token for subject.
func (iss *Issuer) IDToken(t testing.TB, subject string) string {
	t.Helper()
	return iss.Sign(t, iss.Claims(subject))
}

// Sign signs claims with the issuer's key as RS256 with its kid.
func (iss *Issuer) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return SignWith(t, claims, jwa.RS256(), iss.Key, iss.KeyID)
}

// SignWith signs claims with any algorithm and key; kid is left out when empty.
func SignWith(t testing.TB, claims map[string]any, alg jwa.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshal claims: %v", err)
	}
	hdr := jws.NewHeaders()
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			t.Fatalf("set kid: %v", err)
		}
	}
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		t.Fatalf("set typ: %v", err)
	}
	signed, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return string(signed)
}
