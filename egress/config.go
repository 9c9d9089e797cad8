package egress

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/schemas"
	"github.com/slack-go/slack"
)

// Config is egress' configuration (see README, "Egress").
type Config struct {
	// Token is the bot token (xoxb-...); required unless DryRun.
	Token string
	// APIURL is the Slack Web API base, ending with "/".
	APIURL string
	// DryRun logs (and writes to Options.DryRunOut) what would be sent
	// instead of calling Slack.
	DryRun bool
	// Concurrency is the number of thread lanes one replica handles at
	// once, across the partitions it owns.
	Concurrency int
	// Partitions is how many partitions MARIA_OUT's slots are split into;
	// the live egress replicas share them (see partitions.go).
	Partitions int
	// CallTimeout bounds one Slack HTTP call.
	CallTimeout time.Duration
	// IdempotencyTTL is how long delivery records are kept (≥ the stream's max age).
	IdempotencyTTL time.Duration
	// IdempotencyStale is how long a pending claim may go unrenewed before
	// it is presumed abandoned by a crashed replica and reconciled. The
	// owner renews it during its call (claimlease.go), so it bounds how
	// long a standby waits after a kill -9 mid-call, not the call.
	IdempotencyStale time.Duration
	// RefTTL is how long ref → ts mappings are kept.
	RefTTL time.Duration
	// StreamFlush is the minimum interval between chat.update calls of a
	// stream that fell back to post-then-update.
	StreamFlush time.Duration
	// MaxAttempts bounds failed attempts of one command (rate limits and
	// waiting behind an earlier command of the thread do not count).
	MaxAttempts int
	// VerifyAuth calls auth.test at start and refuses to start on invalid_auth.
	VerifyAuth bool
	// MultiWorkspace: SLACK_CLIENT_ID is set, each workspace's token comes
	// from its installation (Options.Tokens), SLACK_BOT_TOKEN is optional.
	MultiWorkspace bool
}

// DefaultIdempotencyStale: a standby takes over the claim of a replica
// killed mid-call this long after its last renewal — seconds, not the 2
// minutes a claim needed to outlive any call before it was renewed. A call
// is cancelled only when its claim could not be renewed for half of it
// (a bucket leader election takes 4–9 s; Slack calls take milliseconds).
const DefaultIdempotencyStale = 10 * time.Second

// minIdempotencyStale keeps renewals (every quarter of it) from hammering
// the bucket.
const minIdempotencyStale = time.Second

// LoadConfig reads egress' variables; problems are recorded in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		Token:            env.String("SLACK_BOT_TOKEN", ""),
		APIURL:           env.String("SLACK_API_URL", slack.APIURL),
		DryRun:           env.Bool("MARIA_EGRESS_DRY_RUN", false),
		Concurrency:      env.Int("MARIA_EGRESS_CONCURRENCY", 16, 1, 1024),
		Partitions:       env.Int("MARIA_EGRESS_PARTITIONS", DefaultPartitions, 1, schemas.OutSlots),
		CallTimeout:      env.Duration("MARIA_EGRESS_SLACK_TIMEOUT", 20*time.Second),
		IdempotencyTTL:   env.Duration("MARIA_EGRESS_IDEMPOTENCY_TTL", 8*24*time.Hour),
		IdempotencyStale: env.Duration("MARIA_EGRESS_IDEMPOTENCY_STALE", DefaultIdempotencyStale),
		RefTTL:           env.Duration("MARIA_EGRESS_REF_TTL", 7*24*time.Hour),
		StreamFlush:      env.Duration("MARIA_EGRESS_STREAM_FLUSH", time.Second),
		MaxAttempts:      env.Int("MARIA_EGRESS_MAX_ATTEMPTS", 8, 1, 50),
		VerifyAuth:       env.Bool("MARIA_EGRESS_VERIFY_AUTH", true),
		MultiWorkspace:   env.String("SLACK_CLIENT_ID", "") != "",
	}
	if err := c.normalize(); err != nil {
		env.Fail(err)
	}
	return c
}

// DefaultConfig is a valid configuration for tests and embedding.
func DefaultConfig(token, apiURL string) Config {
	c := Config{Token: token, APIURL: apiURL, Concurrency: 16, Partitions: DefaultPartitions, CallTimeout: 20 * time.Second,
		IdempotencyTTL: 8 * 24 * time.Hour, IdempotencyStale: DefaultIdempotencyStale, RefTTL: 7 * 24 * time.Hour,
		StreamFlush: time.Second, MaxAttempts: 8}
	if c.APIURL == "" {
		c.APIURL = slack.APIURL
	}
	return c
}

// Validate reports what is wrong with c (LoadConfig already recorded it in the Env).
func (c Config) Validate() error { return c.normalize() }

// normalize validates c and fills defaults.
func (c *Config) normalize() error {
	var errs []error
	if c.APIURL == "" {
		c.APIURL = slack.APIURL
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/" // slack-go appends method names to the base
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SLACK_API_URL=%q: want an http(s) URL such as https://slack.com/api/", natsconn.RedactURL(c.APIURL)))
	}
	if c.Token == "" && !c.DryRun && !c.MultiWorkspace {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN is required (egress posts to Slack; set MARIA_EGRESS_DRY_RUN=true to only log what would be posted)"))
	}
	if c.Token != "" && !strings.HasPrefix(c.Token, "xox") {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN does not look like a Slack token (want xoxb-...)"))
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Partitions <= 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Partitions > schemas.OutSlots {
		errs = append(errs, fmt.Errorf("MARIA_EGRESS_PARTITIONS=%d: at most %d (MARIA_OUT's slots)", c.Partitions, schemas.OutSlots))
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 20 * time.Second
	}
	if c.IdempotencyTTL <= 0 {
		c.IdempotencyTTL = 8 * 24 * time.Hour
	}
	if c.IdempotencyStale <= 0 {
		c.IdempotencyStale = DefaultIdempotencyStale
	}
	if c.RefTTL <= 0 {
		c.RefTTL = 7 * 24 * time.Hour
	}
	if c.StreamFlush <= 0 {
		c.StreamFlush = time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.IdempotencyStale < minIdempotencyStale {
		errs = append(errs, fmt.Errorf("MARIA_EGRESS_IDEMPOTENCY_STALE (%s) must be at least %s: the owner renews its claim every quarter of it and gives up its call after half of it without a renewal", c.IdempotencyStale, minIdempotencyStale))
	}
	return errors.Join(errs...)
}
