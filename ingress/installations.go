package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Installations is told what Slack says about Maria's installs, in
// multi-workspace mode (bus/installs.Lifecycle implements it).
type Installations interface {
	// Uninstalled ends the install serving team (or the org-wide install
	// of enterprise): app_uninstalled, or the bot's tokens revoked.
	Uninstalled(ctx context.Context, team, enterprise string, orgWide bool) error
	// Seen links a team to its organization's org-wide install, the first
	// time an event of that team comes through it.
	Seen(ctx context.Context, team, enterprise string) error
}

type installHooks struct {
	h    Installations
	seen sync.Map // team → linked
}

// SetInstallations turns on install lifecycle handling (call before serving).
func (in *Ingress) SetInstallations(h Installations) { in.installs.h = h }

// installEvent handles an uninstall (done true: nothing else to do with
// r) and links teams of org-wide installs as they show up. An error asks
// Slack to redeliver: an uninstall must not be lost.
func (in *Ingress) installEvent(ctx context.Context, r *Result) (outcome string, done bool, err error) {
	h := in.installs.h
	if h == nil {
		return "", false, nil
	}
	if r.Uninstall {
		if err := h.Uninstalled(ctx, r.Team, r.Enterprise, r.EnterpriseInstall); err != nil {
			in.log.Error().Err(err).Str("team", r.Team).Str("enterprise", r.Enterprise).Msg("uninstall not recorded; slack will retry")
			return OutcomeUnavailable, true, fmt.Errorf("%w: %v", errUnavailable, err)
		}
		in.log.Warn().Str("team", r.Team).Str("enterprise", r.Enterprise).Bool("org_wide", r.EnterpriseInstall).
			Str("event", r.What).Msg("maria uninstalled: installation and tokens deleted, work for it stops")
		in.installs.seen.Delete(r.Team)
		return OutcomeOK, true, nil
	}
	if r.EnterpriseInstall && r.Team != "" && r.Enterprise != "" {
		if _, linked := in.installs.seen.Load(r.Team); !linked {
			if err := h.Seen(ctx, r.Team, r.Enterprise); err != nil {
				in.log.Warn().Err(err).Str("team", r.Team).Msg("team not linked to its org-wide install yet")
			} else {
				in.installs.seen.Store(r.Team, true)
			}
		}
	}
	return "", false, nil
}

// botTokensRevoked reads a tokens_revoked event: true when bot tokens are
// among the revoked (user tokens alone leave the install working).
func botTokensRevoked(event json.RawMessage) bool {
	var ev struct {
		Tokens struct {
			Bot []string `json:"bot"`
		} `json:"tokens"`
	}
	return json.Unmarshal(event, &ev) == nil && len(ev.Tokens.Bot) > 0
}
