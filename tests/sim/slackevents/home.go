package slackevents

import (
	"context"
	"strings"

	"github.com/mariahq/maria/schemas"
)

// AppHomeOpenedEvent is app_home_opened for the Home tab; viewID is the
// Home view already published ("" the first time).
func AppHomeOpenedEvent(user, dmChannel, viewID string) Event {
	ev := Event{"type": "app_home_opened", "user": user, "channel": dmChannel, "tab": "home", "event_ts": NewTS()}
	if viewID != "" {
		ev["view"] = map[string]any{"id": viewID, "type": "home"}
	}
	return ev
}

// AppHomeOpened delivers app_home_opened: user opened Maria's Home tab.
func (c *Client) AppHomeOpened(ctx context.Context, user, dmChannel, viewID string) (Delivery, error) {
	return c.Event(ctx, AppHomeOpenedEvent(user, dmChannel, viewID))
}

// ViewClick is a button click in a Home tab or a modal.
type ViewClick struct {
	User, ViewID, ViewType string
	ActionID, Value        string
	// BlockID, ActionTS and TriggerID are generated when empty.
	BlockID, ActionTS, TriggerID string
}

// ViewClickPayload is the block_actions payload of a click in a view
// (container type "view"), after Slack's documented example.
func ViewClickPayload(team, appID string, c ViewClick) []byte {
	return mustJSON(map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": c.User, "username": "user-" + strings.ToLower(c.User), "team_id": team},
		"api_app_id": appID, "token": "9s8d9as89d8as9d8as989", "trigger_id": c.TriggerID,
		"team":      map[string]any{"id": team, "domain": "maria-sim"},
		"container": map[string]any{"type": "view", "view_id": c.ViewID},
		"view":      map[string]any{"id": c.ViewID, "type": c.ViewType, "team_id": team},
		"actions": []map[string]any{{
			"action_id": c.ActionID, "block_id": c.BlockID, "value": c.Value, "type": "button", "action_ts": c.ActionTS,
			"text": map[string]any{"type": "plain_text", "text": c.ActionID},
		}},
	})
}

// ClickInView delivers a click on a button of a Home tab or modal.
func (c *Client) ClickInView(ctx context.Context, click ViewClick, opts ...Option) (Delivery, error) {
	if click.ActionTS == "" {
		click.ActionTS = NewTS()
	}
	if click.TriggerID == "" {
		click.TriggerID = NewTriggerID()
	}
	if click.BlockID == "" {
		click.BlockID = randUpper(5)
	}
	if click.ViewType == "" {
		click.ViewType = "home"
	}
	form := InteractionForm(ViewClickPayload(c.team(), c.appID(), click))
	st, resp, err := c.PostForm(ctx, schemas.SlackPathInteractions, form, opts...)
	id := schemas.SlackActionID(c.team(), click.User, click.ActionTS, click.ActionID, click.BlockID, click.TriggerID)
	return Delivery{ID: id, Turn: schemas.SlackInteractionTurn(c.team(), id), Status: st, Body: resp, Payload: []byte(form.Encode())}, err
}

// Submission is a view_submission: the values are block_id → action_id →
// input state as Slack sends it (e.g. {"value": "text"} or
// {"selected_options": [{"value": "a"}]}; see TextInput, Selected).
type Submission struct {
	User, ViewID, CallbackID, PrivateMetadata string
	Values                                    map[string]map[string]any
	TriggerID                                 string
}

// TextInput is the state of a plain_text_input.
func TextInput(v string) map[string]any {
	return map[string]any{"type": "plain_text_input", "value": v}
}

// Selected is the state of checkboxes.
func Selected(values ...string) map[string]any {
	opts := []map[string]any{}
	for _, v := range values {
		opts = append(opts, map[string]any{"value": v})
	}
	return map[string]any{"type": "checkboxes", "selected_options": opts}
}

// ViewSubmissionPayload is the interaction payload of a submitted modal.
func ViewSubmissionPayload(team, appID string, s Submission) []byte {
	return mustJSON(map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": team, "domain": "maria-sim"},
		"user":       map[string]any{"id": s.User, "username": "user-" + strings.ToLower(s.User), "team_id": team},
		"api_app_id": appID, "token": "9s8d9as89d8as9d8as989", "trigger_id": s.TriggerID,
		"view": map[string]any{"id": s.ViewID, "type": "modal", "team_id": team, "callback_id": s.CallbackID,
			"private_metadata": s.PrivateMetadata, "state": map[string]any{"values": s.Values}},
	})
}

// SubmitView delivers a view_submission.
func (c *Client) SubmitView(ctx context.Context, s Submission, opts ...Option) (Delivery, error) {
	if s.TriggerID == "" {
		s.TriggerID = NewTriggerID()
	}
	form := InteractionForm(ViewSubmissionPayload(c.team(), c.appID(), s))
	st, resp, err := c.PostForm(ctx, schemas.SlackPathInteractions, form, opts...)
	id := schemas.SlackViewID(c.team(), s.User, s.ViewID, s.TriggerID)
	return Delivery{ID: id, Turn: schemas.SlackInteractionTurn(c.team(), id), Status: st, Body: resp, Payload: []byte(form.Encode())}, err
}
