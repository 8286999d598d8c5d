package edge

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// defaultErrorCachingTTL is how long CloudFront caches an origin's 4xx/5xx response when no
// custom error response says otherwise.
const defaultErrorCachingTTL = 10 * time.Second

// distribution is what the edge serves, read from the CloudFront API.
type distribution struct {
	id, arn, account, domain string
	aliases                  []string
	enabled                  bool
	rootObject               string
	origins                  map[string]origin
	behaviours               []behaviour // ordered; the default behaviour is last
	geoType                  cftypes.GeoRestrictionType
	geoCountries             map[string]bool
	keys                     map[string]*rsa.PublicKey // public key id -> key, of every trusted group
	errorTTLs                map[int]time.Duration
}

type behaviour struct {
	pattern      string // "" for the default behaviour
	originID     string
	minTTL       time.Duration
	defaultTTL   time.Duration
	maxTTL       time.Duration
	allowed      map[string]bool
	cached       map[string]bool
	forwardQuery bool
	// forwardHeaders are the viewer headers sent to the origin and made part of the cache
	// key (legacy forwarded_values headers), canonical; forwardAllHeaders is "*": every
	// header is forwarded and, as on CloudFront, nothing is cached.
	forwardHeaders    []string
	forwardAllHeaders bool
	viewerProtocol    cftypes.ViewerProtocolPolicy
	trustedKeys       map[string]bool  // public key ids; nil when signed URLs are not required
	headers           *responseHeaders // the response headers policy; nil: none
	compress          bool             // gzip what CloudFront compresses
}

type origin struct {
	id, domain, path string
	bucket, region   string // of an S3 origin
	headers          map[string]string
	sign             bool          // an origin access control signs requests with SigV4
	custom           *customOrigin // an HTTP server (a load balancer), not S3
}

// customOrigin is how CloudFront reaches a custom origin.
type customOrigin struct {
	protocol            cftypes.OriginProtocolPolicy // http-only, https-only or match-viewer
	httpPort, httpsPort int
}

// loadDistribution reads a distribution, its key groups and public keys.
func loadDistribution(ctx context.Context, client *cloudfront.Client, id, defaultRegion string) (*distribution, error) {
	out, err := client.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("get distribution %s: %w", id, err)
	}
	dist := out.Distribution
	cfg := dist.DistributionConfig
	if cfg == nil {
		return nil, fmt.Errorf("distribution %s has no config", id)
	}
	arn, account := normaliseARN(aws.ToString(dist.ARN))
	d := &distribution{
		id:           id,
		arn:          arn,
		account:      account,
		domain:       aws.ToString(dist.DomainName),
		enabled:      aws.ToBool(cfg.Enabled),
		rootObject:   aws.ToString(cfg.DefaultRootObject),
		origins:      map[string]origin{},
		geoCountries: map[string]bool{},
		keys:         map[string]*rsa.PublicKey{},
		errorTTLs:    map[int]time.Duration{},
	}
	if cfg.Aliases != nil {
		d.aliases = cfg.Aliases.Items
	}

	oacs, err := originAccessControls(ctx, client)
	if err != nil {
		return nil, err
	}
	if cfg.Origins != nil {
		for _, o := range cfg.Origins.Items {
			d.origins[aws.ToString(o.Id)] = newOrigin(o, oacs, defaultRegion)
		}
	}

	groups := map[string]map[string]bool{} // key group id -> public key ids
	policies := map[string]*responseHeaders{}
	add := func(cb cftypes.CacheBehavior) error {
		b, err := newBehaviour(cb)
		if err != nil {
			return err
		}
		if id := aws.ToString(cb.ResponseHeadersPolicyId); id != "" {
			if policies[id] == nil {
				if policies[id], err = loadResponseHeaders(ctx, client, id); err != nil {
					return err
				}
			}
			b.headers = policies[id]
		}
		if g := cb.TrustedKeyGroups; g != nil && (aws.ToBool(g.Enabled) || g.Enabled == nil && len(g.Items) > 0) {
			b.trustedKeys = map[string]bool{}
			for _, g := range cb.TrustedKeyGroups.Items {
				keys, ok := groups[g]
				if !ok {
					if keys, err = loadKeyGroup(ctx, client, g, d.keys); err != nil {
						return err
					}
					groups[g] = keys
				}
				for k := range keys {
					b.trustedKeys[k] = true
				}
			}
		}
		d.behaviours = append(d.behaviours, b)
		return nil
	}
	if cfg.CacheBehaviors != nil {
		for _, cb := range cfg.CacheBehaviors.Items {
			if err := add(cb); err != nil {
				return nil, err
			}
		}
	}
	if cfg.DefaultCacheBehavior == nil {
		return nil, fmt.Errorf("distribution %s has no default cache behaviour", id)
	}
	if err := add(defaultAsBehavior(cfg.DefaultCacheBehavior)); err != nil {
		return nil, err
	}

	if cfg.Restrictions != nil && cfg.Restrictions.GeoRestriction != nil {
		d.geoType = cfg.Restrictions.GeoRestriction.RestrictionType
		for _, c := range cfg.Restrictions.GeoRestriction.Items {
			d.geoCountries[strings.ToUpper(c)] = true
		}
	}
	if cfg.CustomErrorResponses != nil {
		for _, r := range cfg.CustomErrorResponses.Items {
			if r.ErrorCachingMinTTL != nil {
				d.errorTTLs[int(aws.ToInt32(r.ErrorCode))] = time.Duration(*r.ErrorCachingMinTTL) * time.Second
			}
		}
	}
	return d, nil
}

// normaliseARN returns the distribution ARN in AWS's form (arn:aws:cloudfront::<account>:...),
// which bucket policies name, and its account; moto leaves out the empty region field.
func normaliseARN(arn string) (string, string) {
	parts := strings.Split(arn, ":")
	if len(parts) == 5 { // arn:aws:cloudfront:<account>:distribution/<id>
		parts = []string{parts[0], parts[1], parts[2], "", parts[3], parts[4]}
	}
	if len(parts) != 6 {
		return arn, ""
	}
	return strings.Join(parts, ":"), parts[4]
}

// originAccessControls lists the account's controls by id, to read the signing behaviour of
// the control an origin names.
func originAccessControls(ctx context.Context, client *cloudfront.Client) (map[string]cftypes.OriginAccessControlSummary, error) {
	oacs := map[string]cftypes.OriginAccessControlSummary{}
	var marker *string
	for {
		out, err := client.ListOriginAccessControls(ctx, &cloudfront.ListOriginAccessControlsInput{Marker: marker})
		if err != nil {
			return nil, fmt.Errorf("list origin access controls: %w", err)
		}
		l := out.OriginAccessControlList
		if l == nil {
			return oacs, nil
		}
		for _, o := range l.Items {
			oacs[aws.ToString(o.Id)] = o
		}
		if !aws.ToBool(l.IsTruncated) || l.NextMarker == nil {
			return oacs, nil
		}
		marker = l.NextMarker
	}
}

func newOrigin(o cftypes.Origin, oacs map[string]cftypes.OriginAccessControlSummary, defaultRegion string) origin {
	r := origin{
		id:      aws.ToString(o.Id),
		domain:  aws.ToString(o.DomainName),
		path:    strings.TrimSuffix(aws.ToString(o.OriginPath), "/"),
		headers: map[string]string{},
	}
	if o.CustomHeaders != nil {
		for _, h := range o.CustomHeaders.Items {
			r.headers[aws.ToString(h.HeaderName)] = aws.ToString(h.HeaderValue)
		}
	}
	if c := o.CustomOriginConfig; c != nil {
		r.custom = &customOrigin{protocol: c.OriginProtocolPolicy, httpPort: int(aws.ToInt32(c.HTTPPort)), httpsPort: int(aws.ToInt32(c.HTTPSPort))}
		if r.custom.httpPort == 0 {
			r.custom.httpPort = 80
		}
		if r.custom.httpsPort == 0 {
			r.custom.httpsPort = 443
		}
		return r
	}
	r.bucket, r.region = parseS3Domain(r.domain)
	if r.region == "" {
		r.region = defaultRegion
	}
	if id := aws.ToString(o.OriginAccessControlId); id != "" {
		r.sign = oacs[id].SigningBehavior != cftypes.OriginAccessControlSigningBehaviorsNever
	} else if r.bucket != "" && (o.S3OriginConfig == nil || aws.ToString(o.S3OriginConfig.OriginAccessIdentity) == "") {
		// moto drops the control's id from the origin. An S3 origin without an identity is
		// signed when the account has an S3 control that signs: the one the origin named.
		for _, c := range oacs {
			if c.OriginAccessControlOriginType == cftypes.OriginAccessControlOriginTypesS3 && c.SigningBehavior != cftypes.OriginAccessControlSigningBehaviorsNever {
				r.sign = true
			}
		}
	}
	return r
}

// parseS3Domain returns the bucket and region of an S3 origin domain such as
// <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>.amazonaws.com or
// <bucket>.s3.amazonaws.com; empty strings for other origins.
func parseS3Domain(domain string) (bucket, region string) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	rest, ok := strings.CutSuffix(domain, ".amazonaws.com")
	if !ok {
		return "", ""
	}
	if b, ok := strings.CutSuffix(rest, ".s3"); ok {
		return b, ""
	}
	for _, sep := range []string{".s3.", ".s3-"} {
		if i := strings.LastIndex(rest, sep); i > 0 {
			region = rest[i+len(sep):]
			region = strings.TrimPrefix(region, "dualstack.")
			if region == "external-1" {
				region = "us-east-1"
			}
			return rest[:i], region
		}
	}
	return "", ""
}

// defaultAsBehavior gives the default behaviour the shape of an ordered one (no pattern).
func defaultAsBehavior(d *cftypes.DefaultCacheBehavior) cftypes.CacheBehavior {
	return cftypes.CacheBehavior{
		TargetOriginId:       d.TargetOriginId,
		ViewerProtocolPolicy: d.ViewerProtocolPolicy,
		AllowedMethods:       d.AllowedMethods,
		ForwardedValues:      d.ForwardedValues,
		MinTTL:               d.MinTTL,
		DefaultTTL:           d.DefaultTTL,
		MaxTTL:               d.MaxTTL,
		TrustedKeyGroups:     d.TrustedKeyGroups,
		Compress:             d.Compress,
		// Policies by ID, as the module attaches them (cache and origin request policies are
		// not used: the legacy settings above stand for them).
		ResponseHeadersPolicyId: d.ResponseHeadersPolicyId,
	}
}

func newBehaviour(cb cftypes.CacheBehavior) (behaviour, error) {
	b := behaviour{
		pattern:        aws.ToString(cb.PathPattern),
		originID:       aws.ToString(cb.TargetOriginId),
		minTTL:         seconds(cb.MinTTL, 0),
		defaultTTL:     seconds(cb.DefaultTTL, 86400),
		maxTTL:         seconds(cb.MaxTTL, 31536000),
		allowed:        map[string]bool{http.MethodGet: true, http.MethodHead: true},
		cached:         map[string]bool{http.MethodGet: true, http.MethodHead: true},
		viewerProtocol: cb.ViewerProtocolPolicy,
		compress:       aws.ToBool(cb.Compress),
	}
	if b.maxTTL < b.minTTL {
		return b, fmt.Errorf("behaviour %q: max TTL %v is below min TTL %v", b.pattern, b.maxTTL, b.minTTL)
	}
	if m := cb.AllowedMethods; m != nil && len(m.Items) > 0 {
		b.allowed = map[string]bool{}
		for _, x := range m.Items {
			b.allowed[string(x)] = true
		}
		if m.CachedMethods != nil && len(m.CachedMethods.Items) > 0 {
			b.cached = map[string]bool{}
			for _, x := range m.CachedMethods.Items {
				b.cached[string(x)] = true
			}
		}
	}
	if fv := cb.ForwardedValues; fv != nil {
		b.forwardQuery = aws.ToBool(fv.QueryString)
		if fv.Headers != nil {
			for _, h := range fv.Headers.Items {
				if h == "*" {
					// Every header in the key: CloudFront caches nothing for the behaviour.
					b.forwardAllHeaders, b.cached = true, map[string]bool{}
					continue
				}
				b.forwardHeaders = append(b.forwardHeaders, http.CanonicalHeaderKey(h))
			}
			slices.Sort(b.forwardHeaders)
		}
	}
	return b, nil
}

func seconds(v *int64, fallback int64) time.Duration {
	if v == nil {
		return time.Duration(fallback) * time.Second
	}
	return time.Duration(*v) * time.Second
}

// loadKeyGroup reads a key group's public keys into keys and returns their ids.
func loadKeyGroup(ctx context.Context, client *cloudfront.Client, groupID string, keys map[string]*rsa.PublicKey) (map[string]bool, error) {
	out, err := client.GetKeyGroup(ctx, &cloudfront.GetKeyGroupInput{Id: aws.String(groupID)})
	if err != nil {
		return nil, fmt.Errorf("get key group %s: %w", groupID, err)
	}
	ids := map[string]bool{}
	if out.KeyGroup == nil || out.KeyGroup.KeyGroupConfig == nil {
		return ids, nil
	}
	for _, keyID := range out.KeyGroup.KeyGroupConfig.Items {
		pk, err := client.GetPublicKey(ctx, &cloudfront.GetPublicKeyInput{Id: aws.String(keyID)})
		if err != nil {
			return nil, fmt.Errorf("get public key %s of key group %s: %w", keyID, groupID, err)
		}
		if pk.PublicKey == nil || pk.PublicKey.PublicKeyConfig == nil {
			return nil, fmt.Errorf("public key %s has no config", keyID)
		}
		key, err := parsePublicKey(aws.ToString(pk.PublicKey.PublicKeyConfig.EncodedKey))
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", keyID, err)
		}
		keys[keyID] = key
		ids[keyID] = true
	}
	return ids, nil
}

// parsePublicKey reads the PEM that CloudFront takes: an RSA key in SubjectPublicKeyInfo (or
// PKCS #1) form.
func parsePublicKey(encoded string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(encoded))
	if block == nil {
		return nil, fmt.Errorf("not PEM")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("not an RSA key")
	}
	k, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse RSA public key: %w", err)
	}
	return k, nil
}

// behaviourFor returns the first behaviour whose pattern matches path, else the default.
func (d *distribution) behaviourFor(path string) *behaviour {
	for i := range d.behaviours {
		b := &d.behaviours[i]
		if b.pattern == "" || matchPattern(b.pattern, path) {
			return b
		}
	}
	return &d.behaviours[len(d.behaviours)-1]
}

// matchPattern is CloudFront's path pattern match: case-sensitive, * matches any run of
// characters including "/", ? exactly one; the leading "/" is optional in the pattern.
func matchPattern(pattern, path string) bool {
	if !strings.HasPrefix(pattern, "/") && !strings.HasPrefix(pattern, "*") {
		pattern = "/" + pattern
	}
	return glob(pattern, path)
}

// glob matches with backtracking over the last star only, which is linear enough for paths.
func glob(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
