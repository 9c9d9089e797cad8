package ingress

import (
	"errors"
	"fmt"
	"strings"
)

// Refusal reasons of the allow-lists: label values of
// maria_ingress_refused_total{reason}.
const (
	RefusedTeam       = "team"
	RefusedEnterprise = "enterprise"
	RefusedApp        = "app"
)

// refusedReply is what a user of a refused workspace sees instead of
// Slack's generic error (slash commands, button clicks).
const refusedReply = "Maria is not enabled for this workspace."

// allowLists holds MARIA_ALLOWED_TEAMS, MARIA_ALLOWED_ENTERPRISES and
// MARIA_ALLOWED_APP_IDS. An empty list puts no restriction on its
// dimension; a nil *allowLists allows everything.
type allowLists struct {
	teams, enterprises, apps map[string]bool
}

func newAllowLists(teams, enterprises, apps []string) *allowLists {
	set := func(ids []string) map[string]bool {
		if len(ids) == 0 {
			return nil
		}
		m := make(map[string]bool, len(ids))
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	return &allowLists{teams: set(teams), enterprises: set(enterprises), apps: set(apps)}
}

// check returns the reason r must be refused, or "" when it may pass.
//
// The team of a delivery is its team_id. An org-wide (Enterprise Grid)
// installation may deliver without a team (interactions on org-level
// surfaces): its team is then the enterprise, and it passes the team list
// only when its enterprise is listed in MARIA_ALLOWED_ENTERPRISES — the
// operator allowed the whole organisation.
func (a *allowLists) check(r *Result) string {
	if a == nil {
		return ""
	}
	if a.apps != nil && !a.apps[r.AppID] {
		return RefusedApp
	}
	if a.enterprises != nil && !a.enterprises[r.Enterprise] {
		return RefusedEnterprise
	}
	if a.teams != nil && !a.teams[r.Team] {
		orgWide := r.Team == "" && r.EnterpriseInstall && r.Enterprise != "" && a.enterprises[r.Enterprise]
		if !orgWide {
			return RefusedTeam
		}
	}
	return ""
}

// allowsTeam reports whether team is one of MARIA_ALLOWED_TEAMS: a user
// from another allowed workspace of the same installation is not external.
func (a *allowLists) allowsTeam(team string) bool {
	return a != nil && team != "" && a.teams[team]
}

// splitIDs splits a comma-separated list of Slack ids, dropping blanks.
func splitIDs(raw string) []string {
	var out []string
	for _, f := range strings.Split(raw, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validateIDs checks that every id of the list named name looks like a
// Slack id starting with prefix (T… team, E… enterprise, A… app).
func validateIDs(name, prefix string, ids []string) error {
	var errs []error
	for _, id := range ids {
		if !slackID(id, prefix) {
			errs = append(errs, fmt.Errorf("%s: %q is not a Slack id starting with %s (upper-case letters and digits)", name, id, prefix))
		}
	}
	return errors.Join(errs...)
}

func slackID(id, prefix string) bool {
	if len(id) < 3 || len(id) > 32 || !strings.HasPrefix(id, prefix) {
		return false
	}
	for _, c := range id {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
