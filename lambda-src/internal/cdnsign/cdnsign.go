// Package cdnsign makes CloudFront signed URLs with a canned policy and signed cookies with a
// custom policy, for distributions that trust a key group.
//
// CloudFront's format: the policy
//
//	{"Statement":[{"Resource":"<url>","Condition":{"DateLessThan":{"AWS:EpochTime":<unix>}}}]}
//
// (exactly this JSON, no white space) is signed with RSA-SHA1 (PKCS #1 v1.5); the URL gets
// Expires, Signature and Key-Pair-Id, the signature in CloudFront's URL-safe base64 (+ → -,
// = → _, / → ~). Cookies carry the policy itself (CloudFront-Policy), so its Resource may
// hold wildcards and one set of cookies covers a whole HLS tree, whose relative playlist and
// segment URLs a player requests without any query string.
package cdnsign

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Signer signs URLs with one key pair of a trusted key group.
type Signer struct {
	keyPairID string
	key       *rsa.PrivateKey
}

// New returns a Signer for the public key keyPairID, whose private key is key.
func New(keyPairID string, key *rsa.PrivateKey) (*Signer, error) {
	if keyPairID == "" || key == nil {
		return nil, errors.New("cdnsign: key pair id and private key are required")
	}
	return &Signer{keyPairID: keyPairID, key: key}, nil
}

// As is a Signer with the same private key for another public key id: every region's
// distribution trusts a public key of its own, all made from the platform's one key pair.
func (s *Signer) As(keyPairID string) *Signer {
	return &Signer{keyPairID: keyPairID, key: s.key}
}

// ParsePrivateKey reads an RSA private key in PEM, PKCS #1 or PKCS #8. A JSON object with a
// "private_key" member holding the PEM is accepted too, since Secrets Manager secrets are
// often written that way.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		var wrapped struct {
			PrivateKey string `json:"private_key"`
		}
		if err := json.Unmarshal([]byte(trimmed), &wrapped); err != nil || wrapped.PrivateKey == "" {
			return nil, errors.New("cdnsign: a JSON secret must hold the PEM in \"private_key\"")
		}
		trimmed = wrapped.PrivateKey
	}
	block, _ := pem.Decode([]byte(trimmed))
	if block == nil {
		return nil, errors.New("cdnsign: no PEM block in the private key")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("cdnsign: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("cdnsign: CloudFront needs an RSA key, got %T", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("cdnsign: PEM block %q is not a private key", block.Type)
}

// CannedPolicy is the policy CloudFront reconstructs from a canned-policy URL.
func CannedPolicy(resource string, expires time.Time) string { return policy(resource, expires) }

// CustomPolicy is the policy of signed cookies. With only an expiry it has the canned shape;
// what differs is that resource may hold wildcards: * for any characters, ? for one.
func CustomPolicy(resource string, expires time.Time) string { return policy(resource, expires) }

func policy(resource string, expires time.Time) string {
	// CloudFront compares the literal URL, so & < > must not become \u0026 and friends.
	var res strings.Builder
	enc := json.NewEncoder(&res)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(resource) // a string always encodes
	return `{"Statement":[{"Resource":` + strings.TrimSuffix(res.String(), "\n") +
		`,"Condition":{"DateLessThan":{"AWS:EpochTime":` + strconv.FormatInt(expires.Unix(), 10) + `}}}]}`
}

// Sign returns rawURL with a canned-policy signature valid until expires.
func (s *Signer) Sign(rawURL string, expires time.Time) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("cdnsign: %w", err)
	}
	sig, err := s.sign(CannedPolicy(rawURL, expires))
	if err != nil {
		return "", err
	}
	q := "Expires=" + strconv.FormatInt(expires.Unix(), 10) +
		"&Signature=" + sig +
		"&Key-Pair-Id=" + url.QueryEscape(s.keyPairID)
	if u.RawQuery != "" {
		return rawURL + "&" + q, nil
	}
	return rawURL + "?" + q, nil
}

// The names of CloudFront's signed cookies.
const (
	CookiePolicy    = "CloudFront-Policy"
	CookieSignature = "CloudFront-Signature"
	CookieKeyPairID = "CloudFront-Key-Pair-Id"
)

// Cookies returns CloudFront's signed cookies (by name) granting resource, which may end in a
// * wildcard, until expires.
func (s *Signer) Cookies(resource string, expires time.Time) (map[string]string, error) {
	p := CustomPolicy(resource, expires)
	sig, err := s.sign(p)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		CookiePolicy:    Encode([]byte(p)),
		CookieSignature: sig,
		CookieKeyPairID: s.keyPairID,
	}, nil
}

// sign returns the encoded signature of policy.
func (s *Signer) sign(policy string) (string, error) {
	// SHA-1 because CloudFront's policies are defined with it; it is not our choice.
	digest := sha1.Sum([]byte(policy)) //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, digest[:])
	if err != nil {
		return "", fmt.Errorf("cdnsign: sign: %w", err)
	}
	return Encode(sig), nil
}

// verifySignature checks an encoded signature of policy.
func verifySignature(policy []byte, sig string, pub *rsa.PublicKey) error {
	raw, err := Decode(sig)
	if err != nil {
		return fmt.Errorf("cdnsign: bad Signature: %w", err)
	}
	digest := sha1.Sum(policy) //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, digest[:], raw); err != nil {
		return fmt.Errorf("cdnsign: %w", err)
	}
	return nil
}

var cfReplacer = strings.NewReplacer("+", "-", "=", "_", "/", "~")

// Encode is CloudFront's URL-safe base64.
func Encode(b []byte) string { return cfReplacer.Replace(base64.StdEncoding.EncodeToString(b)) }

// Decode reverses Encode.
func Decode(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s))
}

// Verify checks a URL made by Sign against the public key, as CloudFront does for a canned
// policy: the signature covers the URL without the three signing parameters.
func Verify(signedURL string, pub *rsa.PublicKey, keyPairID string, now time.Time) error {
	base, query, ok := strings.Cut(signedURL, "?")
	if !ok {
		return errors.New("cdnsign: URL is not signed")
	}
	var kept []string
	var expires, sig, kp string
	for _, part := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(part, "=")
		switch name {
		case "Expires":
			expires = value
		case "Signature":
			sig = value
		case "Key-Pair-Id":
			kp, _ = url.QueryUnescape(value)
		default:
			kept = append(kept, part)
		}
	}
	if kp != keyPairID {
		return fmt.Errorf("cdnsign: key pair id %q, want %q", kp, keyPairID)
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return errors.New("cdnsign: bad Expires")
	}
	if !now.Before(time.Unix(exp, 0)) {
		return errors.New("cdnsign: URL has expired")
	}
	resource := base
	if len(kept) > 0 {
		resource += "?" + strings.Join(kept, "&")
	}
	return verifySignature([]byte(CannedPolicy(resource, time.Unix(exp, 0))), sig, pub)
}

// VerifyCookies checks signed cookies made by Cookies against the public key, as CloudFront
// does for a request of rawURL: the signature covers the policy as sent, and rawURL must
// match its Resource.
func VerifyCookies(cookies map[string]string, rawURL string, pub *rsa.PublicKey, keyPairID string, now time.Time) error {
	if kp := cookies[CookieKeyPairID]; kp != keyPairID {
		return fmt.Errorf("cdnsign: key pair id %q, want %q", kp, keyPairID)
	}
	p, err := Decode(cookies[CookiePolicy])
	if err != nil {
		return fmt.Errorf("cdnsign: bad %s: %w", CookiePolicy, err)
	}
	// The signature first: nothing in an unsigned policy is worth reading.
	if err := verifySignature(p, cookies[CookieSignature], pub); err != nil {
		return err
	}
	var parsed struct {
		Statement []struct {
			Resource  string `json:"Resource"`
			Condition struct {
				DateLessThan struct {
					EpochTime int64 `json:"AWS:EpochTime"`
				} `json:"DateLessThan"`
			} `json:"Condition"`
		} `json:"Statement"`
	}
	if err := json.Unmarshal(p, &parsed); err != nil || len(parsed.Statement) != 1 {
		return errors.New("cdnsign: policy is not one statement")
	}
	st := parsed.Statement[0]
	if !now.Before(time.Unix(st.Condition.DateLessThan.EpochTime, 0)) {
		return errors.New("cdnsign: cookies have expired")
	}
	if !matchResource(st.Resource, rawURL) {
		return fmt.Errorf("cdnsign: %s is not covered by %s", rawURL, st.Resource)
	}
	return nil
}

// matchResource applies CloudFront's wildcards: * matches any characters (none included), ?
// exactly one, everything else itself.
func matchResource(resource, rawURL string) bool {
	// QuoteMeta escapes * and ? as \* and \?; those become the regexp's own wildcards.
	pattern := strings.NewReplacer(`\*`, `.*`, `\?`, `.`).Replace(regexp.QuoteMeta(resource))
	return regexp.MustCompile(`^(?s:` + pattern + `)$`).MatchString(rawURL)
}
