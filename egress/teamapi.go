package egress

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/installs"
	"github.com/slack-go/slack"
)

// TokenSource gives the bot token of a workspace (installs.Tokens in
// multi-workspace mode). With none, egress uses SLACK_BOT_TOKEN for all.
type TokenSource interface {
	BotToken(ctx context.Context, team string) (string, error)
}

type tokenKey struct{}

// forTeam resolves the token of the command's workspace before any Slack
// call: a workspace without an installation (never installed, uninstalled,
// tokens revoked) is a permanent failure with that reason, so its pending
// commands go to the dead letters instead of being retried forever.
func (e *Egress) forTeam(ctx context.Context, team string) (context.Context, error) {
	if e.tokens == nil {
		return ctx, nil
	}
	tok, err := e.tokens.BotToken(ctx, team)
	if errors.Is(err, installs.ErrNotInstalled) {
		metricCommands.WithLabelValues("any", "not_installed").Inc()
		return ctx, bus.Permanent(fmt.Errorf("workspace %q has no installation of Maria (never installed, uninstalled or its tokens revoked): %w", team, err))
	}
	if err != nil {
		return ctx, fmt.Errorf("token of workspace %q: %w", team, err)
	}
	return context.WithValue(ctx, tokenKey{}, tok), nil
}

// teamAPI is the API of multi-workspace mode: every call goes through the
// client of the token forTeam put in its context, one slack-go client per
// token (a rotated token gets a new one; old ones are dropped).
type teamAPI struct {
	cfg Config
	mu  sync.Mutex
	cl  map[string]*slack.Client // token → client
	hc  *http.Client
}

func newTeamAPI(cfg Config) *teamAPI {
	return &teamAPI{cfg: cfg, cl: map[string]*slack.Client{}, hc: &http.Client{Timeout: cfg.CallTimeout}}
}

var errNoTeamToken = errors.New("egress: a Slack call without its workspace's token (forTeam not called)")

func (t *teamAPI) client(ctx context.Context) (*slack.Client, error) {
	tok, _ := ctx.Value(tokenKey{}).(string)
	if tok == "" {
		return nil, bus.Permanent(errNoTeamToken)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.cl[tok]
	if !ok {
		if len(t.cl) > 4096 { // rotated tokens pile up: start over
			clear(t.cl)
		}
		c = slack.New(tok, slack.OptionAPIURL(t.cfg.APIURL), slack.OptionHTTPClient(t.hc))
		t.cl[tok] = c
	}
	return c, nil
}

var (
	_ API      = (*teamAPI)(nil)
	_ ViewsAPI = (*teamAPI)(nil)
)

func (t *teamAPI) AuthTestContext(ctx context.Context) (*slack.AuthTestResponse, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.AuthTestContext(ctx)
}

func (t *teamAPI) PostMessageContext(ctx context.Context, ch string, o ...slack.MsgOption) (string, string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return "", "", err
	}
	return c.PostMessageContext(ctx, ch, o...)
}

func (t *teamAPI) UpdateMessageContext(ctx context.Context, ch, ts string, o ...slack.MsgOption) (string, string, string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return "", "", "", err
	}
	return c.UpdateMessageContext(ctx, ch, ts, o...)
}

func (t *teamAPI) PostEphemeralContext(ctx context.Context, ch, user string, o ...slack.MsgOption) (string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return "", err
	}
	return c.PostEphemeralContext(ctx, ch, user, o...)
}

func (t *teamAPI) StartStreamContext(ctx context.Context, ch string, o ...slack.MsgOption) (string, string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return "", "", err
	}
	return c.StartStreamContext(ctx, ch, o...)
}

func (t *teamAPI) AppendStreamContext(ctx context.Context, ch, ts string, o ...slack.MsgOption) (string, string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return "", "", err
	}
	return c.AppendStreamContext(ctx, ch, ts, o...)
}

func (t *teamAPI) StopStreamContext(ctx context.Context, ch, ts string, o ...slack.MsgOption) (string, string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return "", "", err
	}
	return c.StopStreamContext(ctx, ch, ts, o...)
}

func (t *teamAPI) SetAssistantThreadsStatusContext(ctx context.Context, p slack.AssistantThreadsSetStatusParameters) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	return c.SetAssistantThreadsStatusContext(ctx, p)
}

func (t *teamAPI) SetAssistantThreadsSuggestedPromptsContext(ctx context.Context, p slack.AssistantThreadsSetSuggestedPromptsParameters) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	return c.SetAssistantThreadsSuggestedPromptsContext(ctx, p)
}

func (t *teamAPI) SetAssistantThreadsTitleContext(ctx context.Context, p slack.AssistantThreadsSetTitleParameters) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	return c.SetAssistantThreadsTitleContext(ctx, p)
}

func (t *teamAPI) AddReactionContext(ctx context.Context, name string, item slack.ItemRef) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	return c.AddReactionContext(ctx, name, item)
}

func (t *teamAPI) GetUploadURLExternalContext(ctx context.Context, p slack.GetUploadURLExternalParameters) (*slack.GetUploadURLExternalResponse, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.GetUploadURLExternalContext(ctx, p)
}

func (t *teamAPI) UploadToURL(ctx context.Context, p slack.UploadToURLParameters) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	return c.UploadToURL(ctx, p)
}

func (t *teamAPI) CompleteUploadExternalContext(ctx context.Context, p slack.CompleteUploadExternalParameters) (*slack.CompleteUploadExternalResponse, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.CompleteUploadExternalContext(ctx, p)
}

func (t *teamAPI) GetConversationHistoryContext(ctx context.Context, p *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.GetConversationHistoryContext(ctx, p)
}

func (t *teamAPI) GetConversationRepliesContext(ctx context.Context, p *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, false, "", err
	}
	return c.GetConversationRepliesContext(ctx, p)
}

func (t *teamAPI) PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.PublishViewContext(ctx, req)
}

func (t *teamAPI) OpenViewContext(ctx context.Context, triggerID string, v slack.ModalViewRequest) (*slack.ViewResponse, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.OpenViewContext(ctx, triggerID, v)
}
