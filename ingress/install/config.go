// Package install is Slack's OAuth v2 install flow on ingress' HTTP
// listener: /slack/install (an "Add to Slack" page whose state is bound to
// the browser by a signed, expiring cookie) and /slack/oauth_redirect (the
// code exchanged with oauth.v2.access, the installation stored). It is on
// when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set (Bolt's names).
package install

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/config"
)

// Paths of the install flow (Bolt's).
const (
	PathInstall  = "/slack/install"
	PathRedirect = "/slack/oauth_redirect"
)

// DefaultAuthorizeURL is Slack's consent page.
const DefaultAuthorizeURL = "https://slack.com/oauth/v2/authorize"

// BotScopes are the bot scopes of infra/slack/manifest.yaml
// (TestBotScopesMatchManifest keeps them equal).
var BotScopes = []string{
	"app_mentions:read", "assistant:write", "channels:history", "chat:write", "commands", "files:read", "files:write",
	"groups:history", "im:history", "mpim:history", "reactions:read", "reactions:write", "users:read",
	"users:read.email",
}

// Config of the install flow.
type Config struct {
	ClientID, ClientSecret string
	// StateSecret signs the state cookie (SLACK_STATE_SECRET; default
	// derived from the client secret, the same on every replica).
	StateSecret string
	// RedirectURI is the public URL of /slack/oauth_redirect
	// (SLACK_REDIRECT_URI); empty: the app's configured one.
	RedirectURI string
	// Scopes and UserScopes requested (SLACK_SCOPES, SLACK_USER_SCOPES).
	Scopes, UserScopes []string
	// AuthorizeURL is Slack's consent page (SLACK_OAUTH_AUTHORIZE_URL).
	AuthorizeURL string
	// APIURL is the Web API base for oauth.v2.access (SLACK_API_URL).
	APIURL string
	// StateTTL is how long an install may take, from the page to the
	// redirect (MARIA_INSTALL_STATE_TTL).
	StateTTL time.Duration
}

// Enabled reports whether the install flow (and multi-workspace mode) is on.
func (c Config) Enabled() bool { return c.ClientID != "" }

// LoadConfig reads the install variables; problems are recorded in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		ClientID:     env.String("SLACK_CLIENT_ID", ""),
		ClientSecret: env.String("SLACK_CLIENT_SECRET", ""),
		StateSecret:  env.String("SLACK_STATE_SECRET", ""),
		RedirectURI:  env.String("SLACK_REDIRECT_URI", ""),
		Scopes:       splitScopes(env.String("SLACK_SCOPES", strings.Join(BotScopes, ","))),
		UserScopes:   splitScopes(env.String("SLACK_USER_SCOPES", "")),
		AuthorizeURL: env.String("SLACK_OAUTH_AUTHORIZE_URL", DefaultAuthorizeURL),
		APIURL:       env.String("SLACK_API_URL", "https://slack.com/api/"),
		StateTTL:     env.Duration("MARIA_INSTALL_STATE_TTL", 10*time.Minute),
	}
	if err := c.Validate(); err != nil {
		env.Fail(err)
	}
	return c
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if (c.ClientID == "") != (c.ClientSecret == "") {
		errs = append(errs, errors.New("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (the install flow needs both)"))
	}
	if !c.Enabled() {
		return errors.Join(errs...)
	}
	if len(c.Scopes) == 0 {
		errs = append(errs, errors.New("SLACK_SCOPES is empty: an install needs bot scopes"))
	}
	for name, raw := range map[string]string{"SLACK_OAUTH_AUTHORIZE_URL": c.AuthorizeURL, "SLACK_REDIRECT_URI": c.RedirectURI} {
		if raw == "" && name == "SLACK_REDIRECT_URI" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q: want an http(s) URL", name, raw))
		}
	}
	if c.APIURL != "" && !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if c.StateTTL <= 0 {
		c.StateTTL = 10 * time.Minute
	}
	return errors.Join(errs...)
}

// stateKey is the HMAC key of the state cookie.
func (c Config) stateKey() []byte {
	if c.StateSecret != "" {
		return []byte(c.StateSecret)
	}
	m := hmac.New(sha256.New, []byte(c.ClientSecret))
	m.Write([]byte("maria oauth state"))
	return m.Sum(nil)
}

func splitScopes(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
