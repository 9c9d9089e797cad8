package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/home"
	"github.com/mariahq/maria/schemas"
)

// `/maria connect` and `/maria disconnect`: a person's own Odoo user
// (README "Whose Odoo user"). The modal is opened here; its submission
// goes from ingress straight to the erp service with the key sealed, so
// the key never passes through this processor or any stream.

// onIdentityCommand opens the connect modal or forgets the key.
func (p *Processor) onIdentityCommand(ctx context.Context, m *bus.Msg, cmd schemas.SlackCommand, verb string) error {
	out := schemas.OutSubject(m.Env.Team, m.Env.Channel)
	tell := func(text string) error {
		_, err := m.Publish(ctx, out, "identity", schemas.TypeOutEphemeral, schemas.OutEphemeral{User: m.Env.User, Text: text})
		return err
	}
	if verb == schemas.IdentityDisconnect {
		rep, err := p.disconnect(ctx, m)
		if err != nil {
			return err
		}
		if rep.Error != "" {
			return tell("I could not disconnect your Odoo account: " + rep.Error)
		}
		return tell("Your Odoo API key is forgotten. " + policyWords(rep.Policy))
	}
	if cmd.TriggerID == "" {
		return tell("Slack did not send what is needed to open the form; run `/maria connect` again.")
	}
	return p.openConnect(ctx, m, out, cmd.TriggerID)
}

// onConnectClick answers the "Connect your Odoo account" button, in the
// Home tab (out is the user's) or under an answer (out is the channel's).
func (p *Processor) onConnectClick(ctx context.Context, m *bus.Msg, out string, a *schemas.SlackAction) error {
	if a.TriggerID == "" {
		return bus.Permanent(errors.New("connect click without trigger_id"))
	}
	return p.openConnect(ctx, m, out, a.TriggerID)
}

// openConnect opens the modal, its login prefilled with the account
// already connected or else the Odoo user whose email is the Slack
// profile's (ingress adds it: Envelope.UserEmail). The trigger id lives 3
// seconds, so both lookups are short.
func (p *Processor) openConnect(ctx context.Context, m *bus.Msg, out, triggerID string) error {
	login := ""
	lctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if rep, err := p.identity(lctx, schemas.ERPIdentity{Op: schemas.IdentityStatus, Team: m.Env.Team, User: m.Env.User}); err == nil && rep.Connected {
		login = rep.Login
	} else if m.Env.UserEmail != "" {
		rep, err := p.identity(lctx, schemas.ERPIdentity{Op: schemas.IdentitySuggest, Team: m.Env.Team, User: m.Env.User, Email: m.Env.UserEmail})
		if err == nil {
			login = rep.Login
		}
	}
	metricEvents.WithLabelValues("command", "odoo_connect").Inc()
	_, err := m.Publish(ctx, out, "connect-modal", schemas.TypeOutViewOpen, schemas.OutViewOpen{TriggerID: triggerID, View: connectModal(login)})
	return err
}

// disconnect asks the erp service to forget the user's key.
func (p *Processor) disconnect(ctx context.Context, m *bus.Msg) (*schemas.ERPIdentityReply, error) {
	rep, err := p.identity(ctx, schemas.ERPIdentity{Op: schemas.IdentityDisconnect, Team: m.Env.Team, User: m.Env.User})
	if err != nil {
		return nil, bus.Retry(err)
	}
	metricEvents.WithLabelValues("command", "odoo_disconnect").Inc()
	return rep, nil
}

// connectButton goes under an answer the ERP refused because the asker
// has not connected their own Odoo user (policy personal or
// read-only-service).
func connectButton() []any {
	return []any{home.Button("erp_connect_block", schemas.ActionERPConnect, "Connect your Odoo account", "")}
}

// identitySection is the Home tab's "Connect your Odoo account" /
// "Connected as … — Disconnect". Hidden when this Maria does not connect
// personal accounts.
func (p *Processor) identitySection() home.Section {
	return home.Section{Name: "odoo-account", Blocks: func(ctx context.Context, v home.Viewer) ([]any, error) {
		rep, err := p.identity(ctx, schemas.ERPIdentity{Op: schemas.IdentityStatus, Team: v.Team, User: v.User})
		if err != nil {
			return nil, err
		}
		if rep.Error != "" {
			return nil, nil // not enabled here, or the store failed: no button that cannot work
		}
		if rep.Connected {
			return []any{home.Header("Your Odoo account"),
				home.Text(fmt.Sprintf("Connected as *%s* (`%s`): I read and change Odoo as your Odoo user, with exactly its rights.", rep.Name, rep.Login)),
				home.Button("erp_disconnect_block", schemas.ActionERPDisconnect, "Disconnect", "")}, nil
		}
		return []any{home.Header("Connect your Odoo account"),
			home.Text("Connect your own Odoo user with a personal API key and I answer with exactly the rights Odoo gives you. " + policyWords(rep.Policy)),
			home.Button("erp_connect_block", schemas.ActionERPConnect, "Connect your Odoo account", "")}, nil
	}}
}

// identity asks the erp service (maria.erp.identity).
func (p *Processor) identity(ctx context.Context, q schemas.ERPIdentity) (*schemas.ERPIdentityReply, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := p.b.Conn().RequestWithContext(ctx, schemas.SubjectERPIdentity, body)
	if err != nil {
		return nil, fmt.Errorf("erp identity %s: %w", q.Op, err)
	}
	var rep schemas.ERPIdentityReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return nil, fmt.Errorf("erp identity %s: bad reply: %w", q.Op, err)
	}
	return &rep, nil
}

// policyWords says what happens without a connected account.
func policyWords(policy string) string {
	switch policy {
	case "personal":
		return "In this workspace I answer ERP questions only as your own Odoo user: connect it (`/maria connect`) to use the ERP."
	case "read-only-service":
		return "Without it I read Odoo through Maria's shared account; changes need your own account (`/maria connect`)."
	}
	return "Without it I use Maria's shared Odoo account for you."
}

// connectModal is the "Connect your Odoo account" form.
func connectModal(login string) map[string]any {
	loginInput := map[string]any{"type": "plain_text_input", "action_id": schemas.ERPConnectLoginInput,
		"placeholder": map[string]any{"type": "plain_text", "text": "your Odoo login (usually your email)"}}
	if login != "" {
		loginInput["initial_value"] = login
	}
	text := func(t string) map[string]any { return map[string]any{"type": "plain_text", "text": t} }
	return map[string]any{
		"type": "modal", "callback_id": schemas.ERPConnectCallbackID,
		"title": text("Connect Odoo"), "submit": text("Connect"), "close": text("Cancel"),
		"blocks": []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "I will read and change Odoo *as you*, with exactly the rights Odoo gives your user. " +
				"Create an API key in Odoo under *Preferences → Account Security → New API Key* and paste it below. " +
				"It is checked with Odoo, stored encrypted, and never shown again; `/maria disconnect` forgets it."}},
			map[string]any{"type": "input", "block_id": schemas.ERPConnectLoginBlock, "label": text("Odoo login"), "element": loginInput},
			map[string]any{"type": "input", "block_id": schemas.ERPConnectKeyBlock, "label": text("API key"),
				"element": map[string]any{"type": "plain_text_input", "action_id": schemas.ERPConnectKeyInput}},
		},
	}
}
