// Package installs keeps the Slack installations of a multi-workspace Maria:
// who installed the app where, with which tokens (sealed at rest by package
// sealed), and hands every Slack call the token of the team it is for —
// refreshing rotating tokens before they expire, once across replicas.
package installs

import (
	"errors"
	"slices"
	"time"
)

// ErrNotInstalled means Maria has no installation for the team (never
// installed, uninstalled, or its tokens revoked): work for it cannot be done
// and must be dead-lettered, not retried.
var ErrNotInstalled = errors.New("maria is not installed in this workspace")

// ErrConflict means a compare-and-set lost: the installation changed since
// it was read (another replica rotated its token, a reinstall).
var ErrConflict = errors.New("installation changed concurrently")

// Installation is one install of the app: a workspace, or a whole
// Enterprise Grid organization for an org-wide install. The token fields
// never leave the process in clear: stores seal them, and they are
// excluded from JSON and from String.
type Installation struct {
	TeamID   string `json:"team_id,omitempty"`
	TeamName string `json:"team_name,omitempty"`
	// EnterpriseID is the Grid organization; for an org-wide install
	// (IsEnterpriseInstall) it is the key and TeamID is empty.
	EnterpriseID        string `json:"enterprise_id,omitempty"`
	IsEnterpriseInstall bool   `json:"is_enterprise_install,omitempty"`
	AppID               string `json:"app_id,omitempty"`

	BotUserID         string    `json:"bot_user_id,omitempty"`
	BotToken          string    `json:"-"`
	BotRefreshToken   string    `json:"-"`
	BotTokenExpiresAt time.Time `json:"bot_token_expires_at,omitzero"`
	BotScopes         []string  `json:"bot_scopes,omitempty"`

	// InstallerUserID authorized the install; UserToken is theirs when user
	// scopes were requested.
	InstallerUserID    string    `json:"installer_user_id,omitempty"`
	UserToken          string    `json:"-"`
	UserRefreshToken   string    `json:"-"`
	UserTokenExpiresAt time.Time `json:"user_token_expires_at,omitzero"`
	UserScopes         []string  `json:"user_scopes,omitempty"`

	InstalledAt time.Time `json:"installed_at"`
	// RefreshingUntil is the lease of the replica refreshing the bot token:
	// others wait for its result instead of spending the refresh token too.
	RefreshingUntil time.Time `json:"refreshing_until,omitzero"`
}

// Key is where an installation is kept: the enterprise for org-wide
// installs, the team otherwise.
func (in Installation) Key() string {
	if in.IsEnterpriseInstall {
		return EnterpriseKey(in.EnterpriseID)
	}
	return TeamKey(in.TeamID)
}

// TeamKey and EnterpriseKey are the store keys of the two kinds of install
// (also the additional data its sealed tokens are bound to).
func TeamKey(team string) string             { return "team." + team }
func EnterpriseKey(enterprise string) string { return "enterprise." + enterprise }

// String names the installation without any token (safe to log).
func (in Installation) String() string {
	if in.IsEnterpriseInstall {
		return "org-wide install of " + in.EnterpriseID
	}
	return "install in " + in.TeamID
}

// Expiring reports whether the bot token rotates and expires within skew.
func (in Installation) Expiring(now time.Time, skew time.Duration) bool {
	return !in.BotTokenExpiresAt.IsZero() && in.BotRefreshToken != "" && !now.Add(skew).Before(in.BotTokenExpiresAt)
}

// Equal compares everything, tokens included (tests, no-op writes).
func (in Installation) Equal(o Installation) bool {
	return in.TeamID == o.TeamID && in.TeamName == o.TeamName && in.EnterpriseID == o.EnterpriseID &&
		in.IsEnterpriseInstall == o.IsEnterpriseInstall && in.AppID == o.AppID && in.BotUserID == o.BotUserID &&
		in.BotToken == o.BotToken && in.BotRefreshToken == o.BotRefreshToken && in.BotTokenExpiresAt.Equal(o.BotTokenExpiresAt) &&
		slices.Equal(in.BotScopes, o.BotScopes) && in.InstallerUserID == o.InstallerUserID && in.UserToken == o.UserToken &&
		in.UserRefreshToken == o.UserRefreshToken && in.UserTokenExpiresAt.Equal(o.UserTokenExpiresAt) &&
		slices.Equal(in.UserScopes, o.UserScopes) && in.InstalledAt.Equal(o.InstalledAt) && in.RefreshingUntil.Equal(o.RefreshingUntil)
}

// Record is an installation as read from a store, with the revision a
// compare-and-set Replace is conditioned on.
type Record struct {
	Installation
	Revision uint64
}
