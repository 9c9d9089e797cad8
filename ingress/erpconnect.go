package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// A person's Odoo API key must never be written in clear to a stream or a
// log (docs/threat-model.md, "Personal Odoo keys"). The "Connect your Odoo
// account" modal's submission is therefore not published at all: ingress
// seals the key with the shared keyring for that (team, user), hands it to
// the erp service over request/reply (maria.erp.identity, no stream),
// which opens it, verifies it with Odoo and stores it sealed, and answers
// Slack's view_submission with the outcome inside Slack's 3 seconds: the
// modal shows "connected as …" or the reason next to the key field.

// erpConnect is a connect modal's submission, held in memory only.
type erpConnect struct {
	login, key string
}

// secretInput reports an input ingress never publishes.
func secretInput(actionID string) bool { return strings.HasPrefix(actionID, schemas.SecretInputPrefix) }

// connectFrom reads the connect modal's inputs.
func connectFrom(p schemas.SlackView) *erpConnect {
	c := &erpConnect{}
	if v, ok := p.Values[schemas.ERPConnectLoginBlock][schemas.ERPConnectLoginInput]; ok {
		c.login = strings.TrimSpace(v.Value)
	}
	if v, ok := p.Values[schemas.ERPConnectKeyBlock][schemas.ERPConnectKeyInput]; ok {
		c.key = strings.TrimSpace(v.Value)
	}
	return c
}

// ErrNoIdentityHandoff: this ingress has no keyring or no NATS connection
// to hand a key to the erp service.
var ErrNoIdentityHandoff = errors.New("connecting Odoo accounts is not available")

// WithIdentityHandoff lets ingress take "Connect your Odoo account"
// submissions: keys are sealed with ring and handed to the erp service on nc.
func (in *Ingress) WithIdentityHandoff(ring *sealed.Keyring, nc *nats.Conn) *Ingress {
	in.ring, in.nc = ring, nc
	return in
}

// handConnect seals the key, asks the erp service to verify and store it,
// and sets the view_submission answer on r.
func (in *Ingress) handConnect(ctx context.Context, r *Result) {
	c := r.Connect
	r.Connect = nil // the key leaves memory with this call
	if c.login == "" || c.key == "" {
		r.Response = modalErrors(map[string]string{schemas.ERPConnectKeyBlock: "Enter your Odoo login and an API key."})
		return
	}
	rep, err := in.connectRequest(ctx, r.Team, r.User, c)
	c.key = ""
	switch {
	case err != nil:
		in.log.Warn().Err(err).Str("team", r.Team).Str("user", r.User).Msg("odoo account connect: erp service did not answer")
		r.Response = modalErrors(map[string]string{schemas.ERPConnectKeyBlock: "Maria could not check the key just now (Odoo or Maria is busy). Please try again."})
	case !rep.Connected:
		msg := rep.Error
		if msg == "" {
			msg = "Odoo did not accept this login and API key"
		}
		r.Response = modalErrors(map[string]string{schemas.ERPConnectKeyBlock: msg})
	default:
		metricEvents.WithLabelValues(schemas.KindHome, "odoo_connected").Inc()
		r.Response = connectedView(rep)
	}
}

func (in *Ingress) connectRequest(ctx context.Context, team, user string, c *erpConnect) (*schemas.ERPIdentityReply, error) {
	if in.ring == nil || in.nc == nil {
		return nil, ErrNoIdentityHandoff
	}
	ctx, cancel := context.WithTimeout(ctx, 2700*time.Millisecond)
	defer cancel()
	sealedKey, err := in.ring.Seal(ctx, []byte(c.key), schemas.ERPKeyAAD(team, user))
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(schemas.ERPIdentity{Op: schemas.IdentityConnect, Team: team, User: user, Login: c.login, SealedKey: sealedKey})
	if err != nil {
		return nil, err
	}
	msg, err := in.nc.RequestWithContext(ctx, schemas.SubjectERPIdentity, body)
	if err != nil {
		return nil, err
	}
	var rep schemas.ERPIdentityReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// modalErrors is the view_submission answer that keeps the modal open with
// messages under the given blocks.
func modalErrors(byBlock map[string]string) map[string]any {
	return map[string]any{"response_action": "errors", "errors": byBlock}
}

// connectedView replaces the modal with the outcome.
func connectedView(rep *schemas.ERPIdentityReply) map[string]any {
	text := "Connected as *" + rep.Name + "* (`" + rep.Login + "`). From now on I read and change Odoo as your Odoo user, " +
		"with exactly the rights Odoo gives you. `/maria disconnect` forgets the key."
	return map[string]any{"response_action": "update", "view": map[string]any{
		"type":   "modal",
		"title":  map[string]any{"type": "plain_text", "text": "Odoo account"},
		"close":  map[string]any{"type": "plain_text", "text": "Done"},
		"blocks": []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}},
	}}
}
