package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
)

// `/maria connect` and `/maria disconnect`: a person's own Odoo user
// (README "Whose Odoo user"). The modal is opened here; its submission
// goes from ingress straight to the erp service with the key sealed, so
// the key never passes through this processor or any stream.

// identityVerb returns "connect" or "disconnect" for those commands.
func identityVerb(text string) string {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "connect", "connect odoo", "login":
		return schemas.IdentityConnect
	case "disconnect", "disconnect odoo", "logout":
		return schemas.IdentityDisconnect
	}
	return ""
}

// onIdentityCommand opens the connect modal or forgets the key.
func (p *Processor) onIdentityCommand(ctx context.Context, m *bus.Msg, cmd schemas.SlackCommand, verb string) error {
	out := schemas.OutSubject(m.Env.Team, m.Env.Channel)
	tell := func(text string) error {
		_, err := m.Publish(ctx, out, "identity", schemas.TypeOutEphemeral, schemas.OutEphemeral{User: m.Env.User, Text: text})
		return err
	}
	if verb == schemas.IdentityDisconnect {
		rep, err := p.identity(ctx, schemas.ERPIdentity{Op: schemas.IdentityDisconnect, Team: m.Env.Team, User: m.Env.User})
		if err != nil {
			return bus.Retry(err)
		}
		metricEvents.WithLabelValues("command", "odoo_disconnect").Inc()
		if rep.Error != "" {
			return tell("I could not disconnect your Odoo account: " + rep.Error)
		}
		return tell("Your Odoo API key is forgotten. " + policyWords(rep.Policy))
	}
	if cmd.TriggerID == "" {
		return tell("Slack did not send what is needed to open the form; run `/maria connect` again.")
	}
	// Prefill the login of the account already connected, if any.
	login := ""
	if rep, err := p.identity(ctx, schemas.ERPIdentity{Op: schemas.IdentityStatus, Team: m.Env.Team, User: m.Env.User}); err == nil && rep.Connected {
		login = rep.Login
	}
	metricEvents.WithLabelValues("command", "odoo_connect").Inc()
	_, err := m.Publish(ctx, out, "connect-modal", schemas.TypeOutViewOpen, schemas.OutViewOpen{TriggerID: cmd.TriggerID, View: connectModal(login)})
	return err
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
		return "In this workspace I answer ERP questions only as your own Odoo user: run `/maria connect` to use the ERP again."
	case "read-only-service":
		return "I read Odoo through Maria's shared account again; changes need your own account (`/maria connect`)."
	}
	return "I use Maria's shared Odoo account for you again."
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
