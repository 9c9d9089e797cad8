package ingress

import (
	"context"

	"github.com/mariahq/maria/schemas"
)

// isAdmin reports whether user, classified kind, administers the workspace
// (users.info is_admin, is_owner or is_primary_owner): only a member can,
// so an admin of another organisation reaching Maria through Slack Connect
// does not. The answer comes from the lookup Classify just made (cached);
// a failed lookup is not an admin — settings fail closed.
func (c *Classifier) isAdmin(ctx context.Context, user, kind string) bool {
	if kind != schemas.UserKindMember || c.dir == nil {
		return false
	}
	facts, err := c.lookup(ctx, user)
	return err == nil && facts.admin
}

// emailOf is a member's profile email from the lookup Classify just made
// (cached), to suggest their Odoo login in the connect form; empty for
// anyone else or when the lookup failed.
func (c *Classifier) emailOf(ctx context.Context, user, kind string) string {
	if kind != schemas.UserKindMember || c.dir == nil {
		return ""
	}
	facts, err := c.lookup(ctx, user)
	if err != nil {
		return ""
	}
	return facts.email
}
