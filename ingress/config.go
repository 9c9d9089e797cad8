package ingress

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
)

// DefaultAPIURL is Slack's Web API base (slack-go's default).
const DefaultAPIURL = "https://slack.com/api/"

// Defaults of the variables whose zero value in a Config means "default".
const (
	DefaultUserLookupTimeout = 700 * time.Millisecond
	DefaultUserCacheTTL      = 10 * time.Minute
	DefaultUserCacheSize     = 10_000
	DefaultMaxInflightBodies = 64
	DefaultMaxBufferedBytes  = 32 << 20
)

// slackAckDeadline is how long Slack waits for an answer before it retries.
const slackAckDeadline = 3 * time.Second

// Config is ingress' configuration, read from the environment by LoadConfig.
type Config struct {
	// SigningSecret verifies the HTTP endpoints (X-Slack-Signature v0).
	// Empty: the HTTP endpoints are not mounted (Socket Mode only).
	SigningSecret string
	// AppToken (xapp-…) enables Socket Mode.
	AppToken string
	// BotToken (xoxb-…) is used at start (auth.test) to learn the bot's
	// user and bot ids, and for users.info (guest and bot users); optional —
	// without it every user is classified "unknown".
	BotToken string
	// APIURL is the Slack Web API base (apps.connections.open, auth.test).
	APIURL string
	// MaxBody bounds a request body in bytes; larger → 413.
	MaxBody int64
	// PublishTimeout bounds the wait for JetStream's PubAck, well inside
	// Slack's 3 s; past it the request answers 503 and Slack retries.
	PublishTimeout time.Duration
	// Per-user and per-workspace rate limits (events per minute, and burst);
	// a rate of 0 disables that limit.
	UserRate, UserBurst int
	TeamRate, TeamBurst int
	// SocketWorkers bounds the Socket Mode envelopes handled at once.
	SocketWorkers int
	// Allow-lists of Slack team (T…), enterprise (E…) and app (A…) ids;
	// deliveries from any other are refused. Empty: no restriction.
	AllowedTeams, AllowedEnterprises, AllowedApps []string
	// UserLookupTimeout bounds one users.info call; with PublishTimeout it
	// must fit in Slack's 3 s acknowledgement deadline.
	UserLookupTimeout time.Duration
	// UserCacheTTL and UserCacheSize bound the users.info cache.
	UserCacheTTL  time.Duration
	UserCacheSize int
	// MaxInflightBodies and MaxBufferedBytes bound the request bodies read
	// at once before their signature is verified; past either the request
	// is answered 503 without reading its body.
	MaxInflightBodies int
	MaxBufferedBytes  int64
}

// LoadConfig reads ingress' variables. Unparseable values are collected in
// env (reported with every other service's); the returned error is about
// the combination (no way in, a token of the wrong kind, …).
func LoadConfig(env *config.Env) (Config, error) {
	c := Config{
		SigningSecret:  env.String("SLACK_SIGNING_SECRET", ""),
		AppToken:       env.String("SLACK_APP_TOKEN", ""),
		BotToken:       env.String("SLACK_BOT_TOKEN", ""),
		APIURL:         env.String("SLACK_API_URL", DefaultAPIURL),
		MaxBody:        int64(env.Int("MARIA_INGRESS_MAX_BODY", 1<<20, 1<<10, 8<<20)),
		PublishTimeout: env.Duration("MARIA_INGRESS_PUBLISH_TIMEOUT", 2*time.Second),
		UserRate:       env.Int("MARIA_INGRESS_USER_RATE", 60, 0, 1_000_000),
		UserBurst:      env.Int("MARIA_INGRESS_USER_BURST", 20, 1, 1_000_000),
		TeamRate:       env.Int("MARIA_INGRESS_TEAM_RATE", 1200, 0, 10_000_000),
		TeamBurst:      env.Int("MARIA_INGRESS_TEAM_BURST", 200, 1, 10_000_000),
		SocketWorkers:  env.Int("MARIA_INGRESS_SOCKET_WORKERS", 16, 1, 1024),

		AllowedTeams:       splitIDs(env.String("MARIA_ALLOWED_TEAMS", "")),
		AllowedEnterprises: splitIDs(env.String("MARIA_ALLOWED_ENTERPRISES", "")),
		AllowedApps:        splitIDs(env.String("MARIA_ALLOWED_APP_IDS", "")),
		UserLookupTimeout:  env.Duration("MARIA_INGRESS_USER_LOOKUP_TIMEOUT", DefaultUserLookupTimeout),
		UserCacheTTL:       env.Duration("MARIA_INGRESS_USER_CACHE_TTL", DefaultUserCacheTTL),
		UserCacheSize:      env.Int("MARIA_INGRESS_USER_CACHE_SIZE", DefaultUserCacheSize, 1, 10_000_000),
		MaxInflightBodies:  env.Int("MARIA_INGRESS_MAX_INFLIGHT_BODIES", DefaultMaxInflightBodies, 1, 100_000),
		MaxBufferedBytes:   int64(env.Int("MARIA_INGRESS_MAX_BUFFERED_BYTES", DefaultMaxBufferedBytes, 1<<10, 1<<40)),
	}
	err := c.Validate()
	return c, err
}

// Validate checks what LoadConfig cannot check field by field.
func (c *Config) Validate() error {
	var errs []error
	if c.SigningSecret == "" && c.AppToken == "" {
		errs = append(errs, errors.New("ingress needs SLACK_SIGNING_SECRET (HTTP endpoints /slack/events, /slack/commands, /slack/interactions) or SLACK_APP_TOKEN (Socket Mode); neither is set"))
	}
	if c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-") {
		errs = append(errs, errors.New("SLACK_APP_TOKEN must be an app-level token starting with xapp-"))
	}
	if c.BotToken != "" && !strings.HasPrefix(c.BotToken, "xoxb-") {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN must be a bot token starting with xoxb-"))
	}
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Never quote the value: a URL may carry credentials.
		shown := "<unparseable>"
		if err == nil {
			shown = u.Redacted()
		}
		errs = append(errs, fmt.Errorf("SLACK_API_URL=%q: want an http(s) URL such as %s", shown, DefaultAPIURL))
	} else if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/" // slack-go appends method names
	}
	if c.PublishTimeout >= slackAckDeadline {
		errs = append(errs, fmt.Errorf("MARIA_INGRESS_PUBLISH_TIMEOUT=%s: must stay below Slack's 3s acknowledgement deadline", c.PublishTimeout))
	}
	c.defaults()
	if c.BotToken != "" && c.PublishTimeout+c.UserLookupTimeout >= slackAckDeadline {
		errs = append(errs, fmt.Errorf("MARIA_INGRESS_USER_LOOKUP_TIMEOUT=%s plus MARIA_INGRESS_PUBLISH_TIMEOUT=%s: must stay below Slack's 3s acknowledgement deadline",
			c.UserLookupTimeout, c.PublishTimeout))
	}
	if c.MaxBufferedBytes < c.MaxBody {
		errs = append(errs, fmt.Errorf("MARIA_INGRESS_MAX_BUFFERED_BYTES=%d: must be at least MARIA_INGRESS_MAX_BODY=%d, or no full-size body could ever be read", c.MaxBufferedBytes, c.MaxBody))
	}
	errs = append(errs,
		validateIDs("MARIA_ALLOWED_TEAMS", "T", c.AllowedTeams),
		validateIDs("MARIA_ALLOWED_ENTERPRISES", "E", c.AllowedEnterprises),
		validateIDs("MARIA_ALLOWED_APP_IDS", "A", c.AllowedApps))
	return errors.Join(errs...)
}

// defaults fills the fields whose zero value means "the default" (a Config
// built in code sets only what it cares about).
func (c *Config) defaults() {
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.SocketWorkers <= 0 {
		c.SocketWorkers = 16
	}
	if c.UserLookupTimeout <= 0 {
		c.UserLookupTimeout = DefaultUserLookupTimeout
	}
	if c.UserCacheTTL <= 0 {
		c.UserCacheTTL = DefaultUserCacheTTL
	}
	if c.UserCacheSize <= 0 {
		c.UserCacheSize = DefaultUserCacheSize
	}
	if c.MaxInflightBodies <= 0 {
		c.MaxInflightBodies = DefaultMaxInflightBodies
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = max(DefaultMaxBufferedBytes, c.MaxBody)
	}
}
