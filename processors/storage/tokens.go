package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/installs"
)

// TokenSource gives the bot token of a workspace (installs.Tokens in
// multi-workspace mode): a file is downloaded with the token of the
// workspace it was shared in, never another's.
type TokenSource interface {
	BotToken(ctx context.Context, team string) (string, error)
}

// SetTokens switches downloads to each workspace's own token (call before
// Run). Without it every download uses SLACK_BOT_TOKEN.
func (s *Service) SetTokens(t TokenSource) { s.dl.tokens = t }

// tokenFor is the bot token to fetch team's files with. A workspace
// without an installation is refused for good (its file events are
// dead-lettered with that reason instead of retried forever).
func (d *downloader) tokenFor(ctx context.Context, team, fileID string) (string, error) {
	if d.tokens == nil {
		if d.token == "" {
			return "", bus.Permanent(refuse("file %s: SLACK_BOT_TOKEN is not set, cannot download", fileID))
		}
		return d.token, nil
	}
	tok, err := d.tokens.BotToken(ctx, team)
	if errors.Is(err, installs.ErrNotInstalled) {
		return "", bus.Permanent(refuse("file %s: workspace %q has no installation of Maria (never installed, uninstalled or its tokens revoked)", fileID, team))
	}
	if err != nil {
		return "", bus.Retry(fmt.Errorf("file %s: token of workspace %q: %w", fileID, team, err))
	}
	return tok, nil
}
