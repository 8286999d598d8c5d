package edge

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// signingParams are the query parameters of a signed URL; they are never part of the cache
// key nor forwarded to the origin.
var signingParams = map[string]bool{"Expires": true, "Policy": true, "Signature": true, "Key-Pair-Id": true}

// denial is why a signed request was refused, as CloudFront words it in its XML error body.
type denial struct{ code, message string }

func (d *denial) Error() string { return d.code + ": " + d.message }

var (
	errMissingKey   = &denial{"MissingKey", "Missing Key-Pair-Id query parameter or cookie value"}
	errUnknownKey   = &denial{"InvalidKey", "Unknown Key"}
	errMalformed    = &denial{"MalformedPolicy", "Malformed Policy"}
	errAccessDenied = &denial{"AccessDenied", "Access denied"}
)

// signedRequest holds a request's signing values, from the query or else the signed cookies.
type signedRequest struct {
	keyID, signature, policy, expires string
}

func signingValues(r *http.Request) signedRequest {
	q := r.URL.Query()
	s := signedRequest{keyID: q.Get("Key-Pair-Id"), signature: q.Get("Signature"), policy: q.Get("Policy"), expires: q.Get("Expires")}
	if s.keyID != "" || s.signature != "" {
		return s
	}
	cookie := func(name string) string {
		if c, err := r.Cookie(name); err == nil {
			return c.Value
		}
		return ""
	}
	return signedRequest{
		keyID:     cookie("CloudFront-Key-Pair-Id"),
		signature: cookie("CloudFront-Signature"),
		policy:    cookie("CloudFront-Policy"),
		expires:   cookie("CloudFront-Expires"),
	}
}

// verifySigned checks a request against a behaviour's trusted keys. resources are the URLs
// the request may have been signed for (the scheme and host a viewer used are not known for
// sure behind a local proxy); clientIP is for an IpAddress condition.
func verifySigned(s signedRequest, trusted map[string]bool, keys map[string]*rsa.PublicKey, resources []string, clientIP net.IP, now time.Time) *denial {
	if s.keyID == "" {
		return errMissingKey
	}
	key, ok := keys[s.keyID]
	if !ok || !trusted[s.keyID] {
		return errUnknownKey
	}
	sig, err := cfDecode(s.signature)
	if s.signature == "" || err != nil {
		return errAccessDenied
	}
	if s.policy != "" {
		doc, err := cfDecode(s.policy)
		if err != nil {
			return errMalformed
		}
		if !verifyRSASHA1(key, doc, sig) {
			return errAccessDenied
		}
		return checkCustomPolicy(doc, resources, clientIP, now)
	}
	if s.expires == "" {
		return errAccessDenied
	}
	expires, err := strconv.ParseInt(s.expires, 10, 64)
	if err != nil {
		return errAccessDenied
	}
	for _, res := range resources {
		if verifyRSASHA1(key, []byte(cannedPolicy(res, expires)), sig) {
			if !now.Before(time.Unix(expires, 0)) {
				return errAccessDenied
			}
			return nil
		}
	}
	return errAccessDenied
}

// cannedPolicy is the exact JSON CloudFront signs for a canned policy: no white space.
func cannedPolicy(resource string, expires int64) string {
	return fmt.Sprintf(`{"Statement":[{"Resource":"%s","Condition":{"DateLessThan":{"AWS:EpochTime":%d}}}]}`, resource, expires)
}

type epochTime struct {
	Seconds int64 `json:"AWS:EpochTime"`
}

type customPolicy struct {
	Statement []struct {
		Resource  string
		Condition struct {
			DateLessThan    *epochTime
			DateGreaterThan *epochTime
			IPAddress       *struct {
				SourceIP string `json:"AWS:SourceIp"`
			} `json:"IpAddress"`
		}
	}
}

func checkCustomPolicy(doc []byte, resources []string, clientIP net.IP, now time.Time) *denial {
	var p customPolicy
	if err := json.Unmarshal(doc, &p); err != nil || len(p.Statement) != 1 {
		return errMalformed
	}
	st := p.Statement[0]
	c := st.Condition
	if c.DateLessThan == nil {
		return errMalformed
	}
	if !now.Before(time.Unix(c.DateLessThan.Seconds, 0)) {
		return errAccessDenied
	}
	if c.DateGreaterThan != nil && !now.After(time.Unix(c.DateGreaterThan.Seconds, 0)) {
		return errAccessDenied
	}
	if c.IPAddress != nil && !ipMatches(c.IPAddress.SourceIP, clientIP) {
		return errAccessDenied
	}
	if st.Resource == "" { // no resource: every object of the distributions that trust the key
		return nil
	}
	for _, res := range resources {
		if glob(st.Resource, res) {
			return nil
		}
	}
	return errAccessDenied
}

func ipMatches(cidr string, ip net.IP) bool {
	if ip == nil {
		return false
	}
	if !strings.Contains(cidr, "/") {
		return net.ParseIP(cidr).Equal(ip)
	}
	_, n, err := net.ParseCIDR(cidr)
	return err == nil && n.Contains(ip)
}

func verifyRSASHA1(key *rsa.PublicKey, msg, sig []byte) bool {
	sum := sha1.Sum(msg) //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	return rsa.VerifyPKCS1v15(key, crypto.SHA1, sum[:], sig) == nil
}

// cfDecode reverses CloudFront's URL-safe base64, which writes + = / as - _ ~.
func cfDecode(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s))
}

// withoutSigningParams drops the signing parameters from a raw query, keeping the rest as
// the viewer wrote it (a canned policy signs the URL with its other parameters verbatim).
func withoutSigningParams(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	var kept []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		name, _, _ := strings.Cut(part, "=")
		if !signingParams[name] {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, "&")
}
