package ingress

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
)

// DefaultAPIURL is Slack's Web API base (slack-go's default).
const DefaultAPIURL = "https://slack.com/api/"

// Config is ingress' configuration, read from the environment by LoadConfig.
type Config struct {
	// SigningSecret verifies the HTTP endpoints (X-Slack-Signature v0).
	// Empty: the HTTP endpoints are not mounted (Socket Mode only).
	SigningSecret string
	// AppToken (xapp-…) enables Socket Mode.
	AppToken string
	// BotToken (xoxb-…) is used once at start (auth.test) to learn the bot's
	// user and bot ids; optional.
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
}

// LoadConfig reads ingress' variables. Unparseable values are collected in
// env (reported with every other service's); the returned error is about
// the combination (no way in, a token of the wrong kind, …).
func LoadConfig(env *bus.Env) (Config, error) {
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
	if c.PublishTimeout >= 3*time.Second {
		errs = append(errs, fmt.Errorf("MARIA_INGRESS_PUBLISH_TIMEOUT=%s: must stay below Slack's 3s acknowledgement deadline", c.PublishTimeout))
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.SocketWorkers <= 0 {
		c.SocketWorkers = 16
	}
	return errors.Join(errs...)
}
