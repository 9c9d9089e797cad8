package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// ConnectOdoo connects user's own Odoo user as a person does in Slack:
// `/maria connect` in channel opens the modal (views.open), and the login
// and API key are submitted in it. It returns the view_submission's answer
// (response_action "update": connected; "errors": refused, with why).
func (e *Env) ConnectOdoo(ctx context.Context, channel, user, login, key string) (map[string]any, error) {
	before := len(e.Slack.Modals())
	d, err := e.Events.Command(ctx, channel, user, "/maria", "connect")
	if err := e.send("/maria connect", d, err); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(e.SettleTimeout)
	for len(e.Slack.Modals()) <= before {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("/maria connect opened no modal within %s", e.SettleTimeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return e.SubmitConnect(ctx, user, e.Slack.Modals()[before], login, key)
}

// SubmitConnect submits the connect form with login and key as user and
// returns the view_submission's answer.
func (e *Env) SubmitConnect(ctx context.Context, user string, form slacksim.View, login, key string) (map[string]any, error) {
	d, err := e.Events.SubmitView(ctx, slackevents.Submission{User: user, ViewID: form.ID, CallbackID: schemas.ERPConnectCallbackID,
		Values: map[string]map[string]any{
			schemas.ERPConnectLoginBlock: {schemas.ERPConnectLoginInput: slackevents.TextInput(login)},
			schemas.ERPConnectKeyBlock:   {schemas.ERPConnectKeyInput: slackevents.TextInput(key)},
		}})
	if err := e.send("connect form", d, err); err != nil {
		return nil, err
	}
	var answer map[string]any
	if err := json.Unmarshal([]byte(d.Body), &answer); err != nil {
		return nil, fmt.Errorf("connect form: not a response_action: %q", d.Body)
	}
	return answer, nil
}
