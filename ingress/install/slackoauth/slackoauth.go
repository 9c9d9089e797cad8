// Package slackoauth is Slack's oauth.v2.access through slack-go: turning an
// install's code into an Installation, and spending a refresh token for a
// new token pair (token rotation).
package slackoauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/installs"
	"github.com/slack-go/slack"
)

// Client calls oauth.v2.access as the app (client id and secret).
type Client struct {
	ClientID     string
	ClientSecret string
	// APIURL is the Web API base ending in "/" (SLACK_API_URL; default Slack's).
	APIURL string
	HTTP   *http.Client
}

func (c *Client) opts() []slack.OAuthOption {
	if c.APIURL == "" {
		return nil
	}
	return []slack.OAuthOption{slack.OAuthOptionAPIURL(c.APIURL)}
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 20 * time.Second}
}

// Exchange turns the code of an OAuth redirect into the installation it
// grants.
func (c *Client) Exchange(ctx context.Context, code, redirectURI string, now time.Time) (installs.Installation, error) {
	r, err := slack.GetOAuthV2ResponseContext(ctx, c.http(), c.ClientID, c.ClientSecret, code, redirectURI, c.opts()...)
	if err != nil {
		return installs.Installation{}, fmt.Errorf("oauth.v2.access: %w", err)
	}
	if r.AccessToken == "" || r.TokenType != "bot" {
		return installs.Installation{}, errors.New("oauth.v2.access: no bot token granted (the app has no bot scopes?)")
	}
	in := installs.Installation{
		TeamID: r.Team.ID, TeamName: r.Team.Name, EnterpriseID: r.Enterprise.ID, IsEnterpriseInstall: r.IsEnterpriseInstall,
		AppID: r.AppID, BotUserID: r.BotUserID, BotToken: r.AccessToken, BotRefreshToken: r.RefreshToken,
		BotScopes: scopes(r.Scope), InstallerUserID: r.AuthedUser.ID, UserToken: r.AuthedUser.AccessToken,
		UserRefreshToken: r.AuthedUser.RefreshToken, UserScopes: scopes(r.AuthedUser.Scope), InstalledAt: now.UTC(),
	}
	if r.ExpiresIn > 0 {
		in.BotTokenExpiresAt = now.Add(time.Duration(r.ExpiresIn) * time.Second).UTC()
	}
	if r.AuthedUser.ExpiresIn > 0 {
		in.UserTokenExpiresAt = now.Add(time.Duration(r.AuthedUser.ExpiresIn) * time.Second).UTC()
	}
	if in.IsEnterpriseInstall && in.EnterpriseID == "" || !in.IsEnterpriseInstall && in.TeamID == "" {
		return installs.Installation{}, errors.New("oauth.v2.access: the answer names no workspace or organization")
	}
	return in, nil
}

// Refresh implements installs.Refresher.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (installs.Refreshed, error) {
	r, err := slack.RefreshOAuthV2TokenContext(ctx, c.http(), c.ClientID, c.ClientSecret, refreshToken, c.opts()...)
	if err != nil {
		return installs.Refreshed{}, fmt.Errorf("oauth.v2.access refresh: %w", err)
	}
	if r.AccessToken == "" || r.RefreshToken == "" {
		return installs.Refreshed{}, errors.New("oauth.v2.access refresh: no token pair in the answer")
	}
	return installs.Refreshed{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken,
		ExpiresIn: time.Duration(r.ExpiresIn) * time.Second}, nil
}

func scopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
