package ingress

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// TokenSource gives the bot token of a workspace (installs.Tokens in
// multi-workspace mode).
type TokenSource interface {
	BotToken(ctx context.Context, team string) (string, error)
}

// SetTokens, in multi-workspace mode, makes every users.info lookup (user
// classification, the admin flag) use the token of the workspace the event
// came from (call before serving). Without it ingress uses SLACK_BOT_TOKEN.
func (in *Ingress) SetTokens(t TokenSource) {
	in.users.dir = &teamDirectory{tokens: t, apiURL: in.cfg.APIURL, hc: &http.Client{Timeout: 10 * time.Second},
		clients: map[string]*slack.Client{}}
}

type teamCtxKey struct{}

// withTeam names the workspace the Slack calls made with ctx are for.
func withTeam(ctx context.Context, team string) context.Context {
	return context.WithValue(ctx, teamCtxKey{}, team)
}

func teamOf(ctx context.Context) string {
	team, _ := ctx.Value(teamCtxKey{}).(string)
	return team
}

// teamDirectory answers users.info with the token of the workspace in the
// call's context (withTeam), one slack-go client per token.
type teamDirectory struct {
	tokens TokenSource
	apiURL string
	hc     *http.Client

	mu      sync.Mutex
	clients map[string]*slack.Client // token → client
}

func (d *teamDirectory) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	team := teamOf(ctx)
	tok, err := d.tokens.BotToken(ctx, team)
	if err != nil {
		return nil, fmt.Errorf("token of workspace %q: %w", team, err)
	}
	d.mu.Lock()
	c, ok := d.clients[tok]
	if !ok {
		if len(d.clients) > 4096 { // rotated tokens pile up: start over
			clear(d.clients)
		}
		c = slack.New(tok, slack.OptionAPIURL(d.apiURL), slack.OptionHTTPClient(d.hc))
		d.clients[tok] = c
	}
	d.mu.Unlock()
	return c.GetUserInfoContext(ctx, user, options...)
}
