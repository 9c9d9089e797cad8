package storage

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/processors/storage/awsstore"
	"github.com/mariahq/maria/processors/storage/extract"
	"github.com/mariahq/maria/processors/storage/store"
)

// Defaults.
const (
	DefaultMaxFileBytes = 50 << 20
	DefaultRetention    = 90 * 24 * time.Hour
	// DefaultFileHosts are the hosts the bot token may be sent to when
	// downloading url_private(_download).
	DefaultFileHosts = "files.slack.com"
)

// Config is the storage processor's configuration (environment variables
// in brackets; see README "## Storage").
type Config struct {
	// Backend: nats (default) or aws [MARIA_STORAGE].
	Backend string
	// ImagesBucket and DocsBucket [MARIA_IMAGES_BUCKET, MARIA_DOCS_BUCKET]:
	// Object Store buckets on nats (default maria_images, maria_docs), S3
	// buckets on aws (required).
	ImagesBucket string
	DocsBucket   string
	// Table is the DynamoDB table on aws [MARIA_DYNAMODB_TABLE].
	Table string
	// SSE is the S3 server-side encryption requested [MARIA_S3_SSE]:
	// AES256 (default), aws:kms or none; KMSKeyID [MARIA_S3_KMS_KEY_ID].
	SSE      string
	KMSKeyID string
	// PathStyle addresses S3 buckets path-style [MARIA_S3_PATH_STYLE].
	PathStyle bool
	// AWS is the SDK configuration read from the standard AWS_* variables.
	AWS awsstore.ClientConfig
	// MaxFileBytes refuses larger files [MARIA_STORAGE_MAX_FILE_BYTES].
	MaxFileBytes int64
	// Retention of objects and records [MARIA_STORAGE_RETENTION].
	Retention time.Duration
	// DownloadTimeout bounds one Slack download [MARIA_STORAGE_DOWNLOAD_TIMEOUT].
	DownloadTimeout time.Duration
	// BotToken authenticates downloads [SLACK_BOT_TOKEN]; never logged.
	BotToken string
	// SlackAPIURL answers files.info for events that carry only a file id
	// (file_shared) [SLACK_API_URL].
	SlackAPIURL string
	// FileHosts are the hosts the bot token may be sent to
	// [MARIA_STORAGE_FILE_HOSTS, plus the host of SLACK_API_URL].
	FileHosts []string
	// TempDir spools downloads [MARIA_STORAGE_TMP_DIR, default the OS's].
	TempDir string
	// Concurrency of the file consumer on this replica [MARIA_STORAGE_CONCURRENCY].
	Concurrency int
	// Extract bounds the text extracted at store time from documents
	// [MARIA_STORAGE_EXTRACT_MAX_BYTES, MARIA_STORAGE_EXTRACT_MAX_CHARS].
	Extract extract.Limits
}

var (
	natsBucketRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	s3BucketRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// LoadConfig reads the configuration from env, recording every problem in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		Backend:         env.OneOf("MARIA_STORAGE", store.BackendNATS, store.BackendNATS, store.BackendAWS),
		SSE:             env.OneOf("MARIA_S3_SSE", awsstore.SSEAES256, awsstore.SSEAES256, awsstore.SSEKMS, awsstore.SSENone),
		KMSKeyID:        env.String("MARIA_S3_KMS_KEY_ID", ""),
		PathStyle:       env.Bool("MARIA_S3_PATH_STYLE", false),
		MaxFileBytes:    int64(env.Int("MARIA_STORAGE_MAX_FILE_BYTES", DefaultMaxFileBytes, 1, 5<<30)),
		Retention:       env.Duration("MARIA_STORAGE_RETENTION", DefaultRetention),
		DownloadTimeout: env.Duration("MARIA_STORAGE_DOWNLOAD_TIMEOUT", 5*time.Minute),
		BotToken:        env.String("SLACK_BOT_TOKEN", ""),
		SlackAPIURL:     env.String("SLACK_API_URL", slack.APIURL),
		TempDir:         env.String("MARIA_STORAGE_TMP_DIR", ""),
		Concurrency:     env.Int("MARIA_STORAGE_CONCURRENCY", 4, 1, 64),
		Extract:         loadExtractLimits(env),
		AWS:             awsstore.FromEnv(env),
	}
	for _, h := range strings.Split(env.String("MARIA_STORAGE_FILE_HOSTS", DefaultFileHosts), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			c.FileHosts = append(c.FileHosts, h)
		}
	}
	if api := env.String("SLACK_API_URL", ""); api != "" {
		u, err := url.Parse(api)
		if err != nil || u.Host == "" {
			env.Fail(fmt.Errorf("SLACK_API_URL=%q: want an absolute URL", natsconn.RedactURL(api)))
		} else {
			c.FileHosts = append(c.FileHosts, strings.ToLower(u.Host))
		}
	}
	switch c.Backend {
	case store.BackendNATS:
		c.ImagesBucket = env.String("MARIA_IMAGES_BUCKET", "maria_images")
		c.DocsBucket = env.String("MARIA_DOCS_BUCKET", "maria_docs")
		for name, v := range map[string]string{"MARIA_IMAGES_BUCKET": c.ImagesBucket, "MARIA_DOCS_BUCKET": c.DocsBucket} {
			if !natsBucketRe.MatchString(v) {
				env.Fail(fmt.Errorf("%s=%q: an Object Store bucket name has only letters, digits, '-' and '_'", name, v))
			}
		}
	case store.BackendAWS:
		c.ImagesBucket = env.Required("MARIA_IMAGES_BUCKET", "the S3 bucket for images, with MARIA_STORAGE=aws")
		c.DocsBucket = env.Required("MARIA_DOCS_BUCKET", "the S3 bucket for documents, with MARIA_STORAGE=aws")
		c.Table = env.Required("MARIA_DYNAMODB_TABLE", "the DynamoDB table for records, with MARIA_STORAGE=aws")
		for name, v := range map[string]string{"MARIA_IMAGES_BUCKET": c.ImagesBucket, "MARIA_DOCS_BUCKET": c.DocsBucket} {
			if v != "" && !s3BucketRe.MatchString(v) {
				env.Fail(fmt.Errorf("%s=%q: not a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')", name, v))
			}
		}
		if (c.AWS.AccessKeyID == "") != (c.AWS.SecretAccessKey == "") {
			env.Fail(fmt.Errorf("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together"))
		}
		for name, v := range map[string]string{"AWS_ENDPOINT_URL_S3": c.AWS.S3Endpoint, "AWS_ENDPOINT_URL_DYNAMODB": c.AWS.DynamoDBEndpoint} {
			if v == "" {
				continue
			}
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				env.Fail(fmt.Errorf("%s=%q: want an http(s) URL", name, natsconn.RedactURL(v)))
			}
		}
	}
	if c.KMSKeyID != "" && c.SSE != awsstore.SSEKMS {
		env.Fail(fmt.Errorf("MARIA_S3_KMS_KEY_ID is set but MARIA_S3_SSE=%s (want aws:kms)", c.SSE))
	}
	return c
}

// AWSConfig is the awsstore configuration derived from c.
func (c Config) AWSConfig() awsstore.Config {
	return awsstore.Config{ImagesBucket: c.ImagesBucket, DocsBucket: c.DocsBucket, Table: c.Table,
		SSE: c.SSE, KMSKeyID: c.KMSKeyID, PathStyle: c.PathStyle, Retention: c.Retention}
}
