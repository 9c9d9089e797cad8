package ingress

import (
	"encoding/json"

	"github.com/mariahq/maria/schemas"
)

// The App Home tab and its modals become kind "home" events whose channel
// is the user: the Home tab and a modal belong to one person and have no
// conversation (README "App Home and workspace settings").

// homeOpenedEvent is app_home_opened.
type homeOpenedEvent struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
	Tab     string `json:"tab"`
	View    *struct {
		ID string `json:"id"`
	} `json:"view"`
}

func (c *callbackCtx) homeOpened() error {
	var e homeOpenedEvent
	if err := json.Unmarshal(c.cb.Event, &e); err != nil {
		return malformed("app_home_opened event: %v", err)
	}
	if e.User == "" {
		return malformed("app_home_opened without user")
	}
	c.res.User = e.User
	p := schemas.SlackHome{EventID: c.cb.EventID, Tab: e.Tab, DMChannel: e.Channel}
	if e.View != nil {
		p.ViewID = e.View.ID
	}
	return c.add(schemas.KindHome, schemas.TypeSlackHome, c.cb.EventID, c.eventTurn(), e.User, e.User, "", p)
}

// viewPayload is what a view interaction adds to the common fields.
type viewPayload struct {
	View *struct {
		ID              string `json:"id"`
		Type            string `json:"type"`
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		State           struct {
			Values map[string]map[string]viewInput `json:"values"`
		} `json:"state"`
	} `json:"view"`
}

// viewInput is one input element's state in view.state.values.
type viewInput struct {
	Value           *string `json:"value"`
	SelectedOption  *option `json:"selected_option"`
	SelectedOptions []struct {
		Value string `json:"value"`
	} `json:"selected_options"`
	SelectedConversations []string `json:"selected_conversations"`
	SelectedChannels      []string `json:"selected_channels"`
	SelectedUsers         []string `json:"selected_users"`
}

type option struct {
	Value string `json:"value"`
}

func (v viewInput) schema() schemas.ViewValue {
	var out schemas.ViewValue
	if v.Value != nil {
		out.Value = *v.Value
	}
	if v.SelectedOption != nil {
		out.Value = v.SelectedOption.Value
	}
	for _, o := range v.SelectedOptions {
		out.Selected = append(out.Selected, o.Value)
	}
	out.Selected = append(out.Selected, v.SelectedConversations...)
	out.Selected = append(out.Selected, v.SelectedChannels...)
	out.Selected = append(out.Selected, v.SelectedUsers...)
	return out
}

// isView reports an interaction that belongs to the Home tab or a modal.
func (in *interaction) isView() bool {
	return in.Type == "view_submission" || (in.Type == "block_actions" && in.Container != nil && in.Container.Type == "view")
}

// viewInteraction normalizes a view_submission, or a click in the Home
// tab or a modal, into a home event (res has the common fields).
func (n *Normalizer) viewInteraction(in *interaction, body []byte, res *Result) (*Result, error) {
	if res.User == "" {
		return nil, malformed("%s without user.id", in.Type)
	}
	var vp viewPayload
	if err := json.Unmarshal(body, &vp); err != nil {
		return nil, malformed("%s view: %v", in.Type, err)
	}
	if in.Type == "block_actions" {
		return n.viewActions(in, vp, res)
	}
	if vp.View == nil || vp.View.ID == "" || vp.View.CallbackID == "" {
		res.Ignored = IgnoredUnsupportedInteraction // no modal of Maria's
		return res, nil
	}
	p := schemas.SlackView{ViewID: vp.View.ID, CallbackID: vp.View.CallbackID, PrivateMetadata: vp.View.PrivateMetadata,
		TriggerID: in.TriggerID, Values: map[string]map[string]schemas.ViewValue{}}
	for block, inputs := range vp.View.State.Values {
		p.Values[block] = map[string]schemas.ViewValue{}
		for action, v := range inputs {
			p.Values[block][action] = v.schema()
		}
	}
	if p.CallbackID == schemas.ERPConnectCallbackID {
		res.Connect = connectFrom(p)
		return res, nil
	}
	for _, inputs := range p.Values {
		for action := range inputs {
			if secretInput(action) {
				delete(inputs, action) // secrets are never published (erpconnect.go)
			}
		}
	}
	id := schemas.SlackViewID(res.Team, res.User, vp.View.ID, in.TriggerID)
	env, err := inbound(id, schemas.SlackInteractionTurn(res.Team, id), schemas.TypeSlackView, p)
	if err != nil {
		return nil, err
	}
	env.Team, env.Channel, env.User = res.Team, res.User, res.User
	res.Events = append(res.Events, Out{Kind: schemas.KindHome, Subject: schemas.InSubject(schemas.KindHome, res.Team, res.User), Env: env})
	return res, nil
}

// viewActions: one home event per action clicked in a view.
func (n *Normalizer) viewActions(in *interaction, vp viewPayload, res *Result) (*Result, error) {
	if len(in.Actions) == 0 {
		return nil, malformed("block_actions without actions")
	}
	for _, a := range in.Actions {
		if a.ActionID == "" {
			return nil, malformed("block_actions action without action_id")
		}
		value := a.Value
		if value == "" && a.SelectedOption != nil {
			value = a.SelectedOption.Value
		}
		p := schemas.SlackAction{ActionID: a.ActionID, BlockID: a.BlockID, Value: value, TriggerID: in.TriggerID}
		if vp.View != nil {
			p.ViewID = vp.View.ID
		}
		id := schemas.SlackActionID(res.Team, res.User, a.ActionTS, a.ActionID, a.BlockID, in.TriggerID)
		env, err := inbound(id, schemas.SlackInteractionTurn(res.Team, id), schemas.TypeSlackAction, p)
		if err != nil {
			return nil, err
		}
		env.Team, env.Channel, env.User = res.Team, res.User, res.User
		res.Events = append(res.Events, Out{Kind: schemas.KindHome, Subject: schemas.InSubject(schemas.KindHome, res.Team, res.User), Env: env})
	}
	return res, nil
}
