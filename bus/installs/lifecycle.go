package installs

import (
	"context"
	"fmt"
)

// Lifecycle applies what Slack says about installs to a Store: an
// uninstall deletes the installation with its tokens (and this process
// forgets them at once), a team seen through an org-wide install is linked
// to it. Ingress calls it (ingress.Installations).
type Lifecycle struct {
	Store  Store
	Tokens *Tokens // optional: forgotten on uninstall
}

// Uninstalled deletes the install serving team, or the org-wide install
// of enterprise.
func (l *Lifecycle) Uninstalled(ctx context.Context, team, enterprise string, orgWide bool) error {
	key := TeamKey(team)
	if orgWide {
		key = EnterpriseKey(enterprise)
	}
	if err := l.Store.Delete(ctx, key); err != nil {
		return fmt.Errorf("uninstall %s: %w", key, err)
	}
	if l.Tokens != nil {
		l.Tokens.Forget(team)
	}
	return nil
}

// Seen links team to enterprise's org-wide install.
func (l *Lifecycle) Seen(ctx context.Context, team, enterprise string) error {
	return l.Store.Link(ctx, team, enterprise)
}
