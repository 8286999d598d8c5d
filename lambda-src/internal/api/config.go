package api

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// Config is the upload API's configuration, read from the environment once at start.
type Config struct {
	Region string // AWS_REGION
	// HomeRegion (HOME_REGION) holds the catalogue's primary, and the media recorded before
	// rows said where they are held; this region when unset.
	HomeRegion        string
	OriginalsBucket   string // ORIGINALS_BUCKET
	DerivativesBucket string // DERIVATIVES_BUCKET: where a deleted media's derivatives are removed
	TopicARN          string // TOPIC_ARN: media events (a deleted event); none when empty
	// CDNDistributionID is the distribution whose cache a deleted media's files leave
	// (CreateInvalidation); none when empty.
	CDNDistributionID string // CDN_DISTRIBUTION_ID

	DBSecretARN string // DB_SECRET_ARN: RDS-managed secret with username and password
	DBHost      string // DB_HOST
	DBPort      int    // DB_PORT, default 5432
	DBName      string // DB_NAME
	// DB_READ_HOST, DB_READ_PORT: a read replica in this region (when the primary is in
	// another); reads that may lag go there. None: everything goes to DB_HOST. The port is
	// DB_PORT's unless given.
	DBReadHost string
	DBReadPort int

	CDNBaseURL             string // CDN_BASE_URL: https://<distribution domain>, no trailing slash
	CDNKeyPairID           string // CDN_KEY_PAIR_ID: sign CDN URLs when set
	CDNPrivateKeySecretARN string // CDN_PRIVATE_KEY_SECRET_ARN: PEM of the key pair's private key
	CDNURLTTL              time.Duration

	JWTIssuer    string   // JWT_ISSUER: the user pool's issuer URL
	JWTAudiences []string // JWT_AUDIENCE: app client id(s), comma-separated
	JWTJWKSURL   string   // JWT_JWKS_URL: default JWT_ISSUER + /.well-known/jwks.json

	ListenAddr      string        // LISTEN_ADDR, default :8080
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 25s

	AllowedContentTypes []string      // ALLOWED_CONTENT_TYPES: video/* types, comma-separated
	MaxUploadBytes      int64         // MAX_UPLOAD_BYTES
	MultipartThreshold  int64         // MULTIPART_THRESHOLD_BYTES: larger uploads go multipart
	PartSize            int64         // MULTIPART_PART_SIZE_BYTES
	UploadURLTTL        time.Duration // UPLOAD_URL_TTL

	DefaultVisibility store.Visibility // DEFAULT_VISIBILITY of uploads that name none: private
	UploadsPerDay     int              // UPLOADS_PER_DAY a user may start, 0: no limit
	CommentsPerMinute int              // COMMENTS_PER_MINUTE a user may write, 0: no limit
	// PublicMaxAge is how long shared caches (the CDN) may keep what anyone may read: the
	// feed and viewer views of media. A media made private leaves them within it.
	PublicMaxAge time.Duration // PUBLIC_MAX_AGE
	// CORSAllowedOrigins may call the API from a browser (CORS_ALLOWED_ORIGINS, comma-
	// separated origins such as https://app.example.com); none by default.
	CORSAllowedOrigins []string

	// S3PathStyle addresses buckets in the path, as the emulator needs; on whenever an
	// AWS_ENDPOINT_URL points the SDK elsewhere than AWS.
	S3PathStyle bool
}

// Defaults of the optional variables.
const (
	DefaultListenAddr          = ":8080"
	DefaultDBPort              = 5432
	DefaultMaxUploadBytes      = 10 << 30  // 10 GiB: beyond, even the spot fleet is not sized for it
	DefaultMultipartThreshold  = 100 << 20 // 100 MiB: a single PUT of more is fragile on mobile links
	DefaultPartSize            = 64 << 20
	DefaultUploadURLTTL        = 15 * time.Minute
	DefaultCDNURLTTL           = time.Hour
	DefaultShutdownTimeout     = 25 * time.Second
	DefaultAllowedContentTypes = "video/mp4,video/quicktime,video/webm,video/x-matroska,video/x-msvideo,video/mpeg,video/3gpp"
	DefaultUploadsPerDay       = 100
	DefaultCommentsPerMinute   = 10
	DefaultPublicMaxAge        = 30 * time.Second

	// S3's own limits on multipart uploads.
	minPartSize = 5 << 20
	maxPartSize = 5 << 30
	maxParts    = 10000
	// maxSinglePut is S3's limit on one PUT.
	maxSinglePut = 5 << 30
)

// ConfigFromEnv reads the configuration from the process environment.
func ConfigFromEnv() (Config, error) { return LoadConfig(os.Getenv) }

// LoadConfig reads the configuration through getenv; every problem is reported at once, each
// naming its variable and what it allows.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	required := func(name string) string {
		v := get(name)
		if v == "" {
			bad(name, "is required")
		}
		return v
	}
	integer := func(name string, def, lo, hi int64) int64 {
		v := get(name)
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			bad(name, "must be an integer from %d to %d, got %q", lo, hi, v)
			return def
		}
		return n
	}
	duration := func(name string, def, lo, hi time.Duration) time.Duration {
		v := get(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			bad(name, "must be a duration such as 15m from %s to %s, got %q", lo, hi, v)
			return def
		}
		return d
	}
	absURL := func(name, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad(name, "must be an absolute http(s) URL without query, got %q", v)
		}
	}

	c := Config{
		Region:                 required("AWS_REGION"),
		HomeRegion:             get("HOME_REGION"),
		OriginalsBucket:        required("ORIGINALS_BUCKET"),
		DerivativesBucket:      required("DERIVATIVES_BUCKET"),
		TopicARN:               get("TOPIC_ARN"),
		CDNDistributionID:      get("CDN_DISTRIBUTION_ID"),
		DBSecretARN:            required("DB_SECRET_ARN"),
		DBHost:                 required("DB_HOST"),
		DBPort:                 int(integer("DB_PORT", DefaultDBPort, 1, 65535)),
		DBName:                 required("DB_NAME"),
		DBReadHost:             get("DB_READ_HOST"),
		DBReadPort:             int(integer("DB_READ_PORT", 0, 1, 65535)), // 0: the primary's port
		CDNBaseURL:             strings.TrimSuffix(required("CDN_BASE_URL"), "/"),
		CDNKeyPairID:           get("CDN_KEY_PAIR_ID"),
		CDNPrivateKeySecretARN: get("CDN_PRIVATE_KEY_SECRET_ARN"),
		CDNURLTTL:              duration("CDN_URL_TTL", DefaultCDNURLTTL, time.Minute, 7*24*time.Hour),
		JWTIssuer:              strings.TrimSuffix(required("JWT_ISSUER"), "/"),
		JWTJWKSURL:             get("JWT_JWKS_URL"),
		ListenAddr:             get("LISTEN_ADDR"),
		ShutdownTimeout:        duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, time.Second, 5*time.Minute),
		MaxUploadBytes:         integer("MAX_UPLOAD_BYTES", DefaultMaxUploadBytes, 1, maxParts*maxPartSize),
		MultipartThreshold:     integer("MULTIPART_THRESHOLD_BYTES", DefaultMultipartThreshold, minPartSize, maxSinglePut),
		PartSize:               integer("MULTIPART_PART_SIZE_BYTES", DefaultPartSize, minPartSize, maxPartSize),
		UploadURLTTL:           duration("UPLOAD_URL_TTL", DefaultUploadURLTTL, time.Minute, 7*24*time.Hour),
		S3PathStyle:            get("AWS_ENDPOINT_URL") != "" || get("AWS_ENDPOINT_URL_S3") != "",
		DefaultVisibility:      store.Visibility(get("DEFAULT_VISIBILITY")),
		UploadsPerDay:          int(integer("UPLOADS_PER_DAY", DefaultUploadsPerDay, 0, 1_000_000)),
		CommentsPerMinute:      int(integer("COMMENTS_PER_MINUTE", DefaultCommentsPerMinute, 0, 10_000)),
		PublicMaxAge:           duration("PUBLIC_MAX_AGE", DefaultPublicMaxAge, time.Second, time.Hour),
	}
	if c.DefaultVisibility == "" {
		c.DefaultVisibility = store.VisibilityPrivate
	}
	if !c.DefaultVisibility.Valid() {
		bad("DEFAULT_VISIBILITY", "must be private, unlisted or public, got %q", c.DefaultVisibility)
	}
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	absURL("CDN_BASE_URL", c.CDNBaseURL)
	absURL("JWT_ISSUER", c.JWTIssuer)
	absURL("JWT_JWKS_URL", c.JWTJWKSURL)
	if (c.CDNKeyPairID == "") != (c.CDNPrivateKeySecretARN == "") {
		bad("CDN_KEY_PAIR_ID", "and CDN_PRIVATE_KEY_SECRET_ARN must be set together (signed CDN URLs) or both left empty")
	}

	for _, a := range strings.Split(required("JWT_AUDIENCE"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.JWTAudiences = append(c.JWTAudiences, a)
		}
	}

	types := get("ALLOWED_CONTENT_TYPES")
	if types == "" {
		types = DefaultAllowedContentTypes
	}
	for _, t := range strings.Split(types, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(t)
		if err != nil || len(params) > 0 || !strings.HasPrefix(mt, "video/") || mt == "video/" {
			bad("ALLOWED_CONTENT_TYPES", "must list video/* media types such as video/mp4, got %q", t)
			continue
		}
		c.AllowedContentTypes = append(c.AllowedContentTypes, mt)
	}
	if len(c.AllowedContentTypes) == 0 && types != "" {
		bad("ALLOWED_CONTENT_TYPES", "must name at least one video/* type")
	}

	if c.MaxUploadBytes > c.MultipartThreshold && (c.MaxUploadBytes+c.PartSize-1)/c.PartSize > maxParts {
		bad("MULTIPART_PART_SIZE_BYTES", "%d makes MAX_UPLOAD_BYTES=%d need more than %d parts; raise it to at least %d",
			c.PartSize, c.MaxUploadBytes, maxParts, (c.MaxUploadBytes+maxParts-1)/maxParts)
	}
	if c.MultipartThreshold > c.MaxUploadBytes {
		c.MultipartThreshold = c.MaxUploadBytes // nothing goes multipart: the limit is below it
	}
	for _, o := range strings.Split(get("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			bad("CORS_ALLOWED_ORIGINS", "must list origins such as https://app.example.com (scheme and host, no path; never *), got %q", o)
			continue
		}
		c.CORSAllowedOrigins = append(c.CORSAllowedOrigins, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	if c.HomeRegion == "" {
		c.HomeRegion = c.Region
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// SignsCDNURLs reports whether CDN URLs are signed.
func (c Config) SignsCDNURLs() bool { return c.CDNKeyPairID != "" }
