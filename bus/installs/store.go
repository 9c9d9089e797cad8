package installs

import "context"

// Store keeps installations; every backend passes installstest.Run.
type Store interface {
	// Save stores an install (a reinstall replaces the previous one).
	Save(ctx context.Context, in Installation) (Record, error)
	// Find returns the installation serving team: its own install, else
	// the org-wide install its enterprise was linked to. ErrNotInstalled
	// when there is none.
	Find(ctx context.Context, team string) (Record, error)
	// FindEnterprise returns the org-wide install of enterprise.
	FindEnterprise(ctx context.Context, enterprise string) (Record, error)
	// Link records that team belongs to enterprise, whose org-wide install
	// then serves it (ingress learns it from the events of that team).
	Link(ctx context.Context, team, enterprise string) error
	// Replace writes next in place of rec only while rec is still the
	// stored revision (ErrConflict otherwise, also when it was deleted:
	// re-read to see what happened).
	Replace(ctx context.Context, rec Record, next Installation) (Record, error)
	// Delete removes the installation stored under key (TeamKey or
	// EnterpriseKey) with its tokens; a missing one is not an error.
	Delete(ctx context.Context, key string) error
}
