package security

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/processors/erp/erptest"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/nats-io/nats.go"
)

// Issue 14: the erp service executes a write only when it can check, itself,
// that the asking user clicked Confirm on exactly that change. These tests
// run the real service over an embedded JetStream and the Odoo simulator
// and count the writes Odoo received.

type erpRig struct {
	t       *testing.T
	sim     *odoosim.Server
	b       *bus.Bus
	results func() []*nats.Msg
	audits  func() []*nats.Msg
	dlq     func() []*nats.Msg
}

var asker = erptest.Conversation{Team: "T1", Channel: "C1", User: "U1"}

func startERP(t *testing.T) *erpRig {
	t.Helper()
	sim := odoosim.New(t)
	env := config.NewEnvFrom(map[string]string{"ODOO_URL": sim.URL, "ODOO_DB": sim.DB, "ODOO_USERNAME": sim.User, "ODOO_PASSWORD": sim.Password,
		"MARIA_ODOO_TIMEOUT": "2s"})
	cfg := erp.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	client, err := erp.NewOdooClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := bustest.New(t)
	r := &erpRig{t: t, sim: sim, b: b, results: bustest.Subscribe(t, b, schemas.SubjectERPResultAll),
		audits: bustest.Subscribe(t, b, schemas.SubjectAuditAll), dlq: bustest.Subscribe(t, b, schemas.SubjectDLQAll)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	svc := erp.New(cfg, client, bustest.Logger(t))
	go func() { done <- svc.Run(ctx, b) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func (r *erpRig) publish(env *schemas.Envelope) {
	r.t.Helper()
	cmd, err := schemas.DecodeData[schemas.ERPCommand](env)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.b.Publish(context.Background(), schemas.ERPCommandSubject(cmd.Model), env); err != nil {
		r.t.Fatal(err)
	}
}

func (r *erpRig) confirm(cmd schemas.ERPCommand) *erptest.Confirmed {
	r.t.Helper()
	c, err := erptest.Confirm(context.Background(), r.b.JetStream(), cmd, asker)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// auditOf waits for the audit record caused by command id.
func (r *erpRig) auditOf(id string) schemas.Audit {
	r.t.Helper()
	var a *schemas.Audit
	bustest.Eventually(r.t, 10*time.Second, func() bool {
		for _, m := range r.audits() {
			if env, err := schemas.Decode(m.Data); err == nil && env.CausationID == id {
				a, _ = schemas.DecodeData[schemas.Audit](env)
				return true
			}
		}
		return false
	}, "no audit record for command %s", id)
	return *a
}

// deadLetterOf waits for the dead letter of command id and returns its reason.
func (r *erpRig) deadLetterOf(id string) string {
	r.t.Helper()
	reason := ""
	bustest.Eventually(r.t, 10*time.Second, func() bool {
		for _, m := range r.dlq() {
			dl := bus.ParseDeadLetter(m.Header, m.Data)
			if env, err := schemas.Decode(dl.Data); err == nil && env.ID == id {
				reason = dl.Reason
				return true
			}
		}
		return false
	}, "command %s was not dead-lettered", id)
	return reason
}

func (r *erpRig) resultsOf(id string) []*schemas.ERPResult {
	var out []*schemas.ERPResult
	for _, m := range r.results() {
		if env, err := schemas.Decode(m.Data); err == nil && env.CausationID == id {
			res, _ := schemas.DecodeData[schemas.ERPResult](env)
			out = append(out, res)
		}
	}
	return out
}

func (r *erpRig) writes() int { return r.sim.Calls("crm.lead.create") + r.sim.Calls("crm.lead.write") }

// rejected checks a command was refused the way issue 14 asks: never
// executed, audited "rejected" under the actor it claims, dead-lettered
// with the reason, and no result for Slack.
func (r *erpRig) rejected(env *schemas.Envelope, actor, reason string) {
	r.t.Helper()
	a := r.auditOf(env.ID)
	if a.Outcome != "rejected" || a.Actor != actor || !strings.Contains(a.Detail, reason) {
		r.t.Fatalf("audit %+v: want rejected, actor %s, detail with %q", a, actor, reason)
	}
	if dl := r.deadLetterOf(env.ID); !strings.Contains(dl, "rejected") || !strings.Contains(dl, reason) {
		r.t.Fatalf("dead letter reason %q: want it to say %q", dl, reason)
	}
	if res := r.resultsOf(env.ID); len(res) != 0 {
		r.t.Fatalf("a rejected command must not be reported to Slack: %+v", res[0])
	}
}

var lead = schemas.ERPCommand{Op: "create", Model: "crm.lead", Values: map[string]any{"name": "Acme", "expected_revenue": 5000}}

func TestERPForgedCommandsAreRejected(t *testing.T) {
	r := startERP(t)
	genuine := r.confirm(lead) // a real proposal and click exist, to be abused
	forged := func(edit func(c *schemas.ERPCommand)) *schemas.Envelope {
		cmd := genuine.Command
		edit(&cmd)
		env, err := erptest.CommandEnvelope(cmd, asker)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	// A click published by someone other than ingress, for a new proposal.
	fake := r.confirm(lead)
	body, _ := json.Marshal(fake.Click)
	var bogus schemas.Envelope
	_ = json.Unmarshal(body, &bogus)
	bogus.ID, bogus.Source = schemas.NewID(), "ai"
	raw, _ := bogus.Marshal()
	ack, err := r.b.JetStream().Publish(context.Background(), schemas.InSubject(schemas.KindAction, "T1", "C1"), raw)
	if err != nil {
		t.Fatal(err)
	}
	fake.Proposal.DecidedEvent, fake.Proposal.DecidedSeq = bogus.ID, ack.Sequence
	if err := erptest.Store(context.Background(), r.b.JetStream(), &fake.Proposal); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, actor, reason string
		env                 *schemas.Envelope
	}{
		{"no proposal at all", "UBOSS", "does not exist", forged(func(c *schemas.ERPCommand) {
			c.ProposalID, c.ConfirmedBy, c.Confirmation = "made-up-1", "UBOSS", nil
		})},
		{"no confirmed_by", "", "confirmed_by", forged(func(c *schemas.ERPCommand) { c.ConfirmedBy = "" })},
		{"real proposal, no click", "U1", "no confirmation", forged(func(c *schemas.ERPCommand) { c.Confirmation = nil })},
		{"real proposal, another event's sequence", "U1", "not the click", forged(func(c *schemas.ERPCommand) {
			c.Confirmation = &schemas.ERPConfirmation{EventID: "evt-x", StreamSeq: 1}
		})},
		{"click not from ingress", "U1", "not a Slack click from ingress", forged(func(c *schemas.ERPCommand) {
			c.ProposalID, c.Confirmation = fake.Command.ProposalID, &schemas.ERPConfirmation{EventID: bogus.ID, StreamSeq: ack.Sequence}
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			r.publish(c.env)
			r.rejected(c.env, c.actor, c.reason)
		})
	}
	if n := r.writes(); n != 0 {
		t.Fatalf("forged commands wrote %d time(s) to Odoo", n)
	}
	if n := r.sim.Count("crm.lead", []any{"name", "=", "Acme"}); n != 0 {
		t.Fatalf("%d leads created", n)
	}
}

func TestERPAlteredCommandIsRejectedAndGenuineWritesOnce(t *testing.T) {
	r := startERP(t)
	c := r.confirm(lead)
	altered := c.Command
	altered.Values = map[string]any{"name": "Acme", "expected_revenue": 500000}
	env, _ := erptest.CommandEnvelope(altered, asker)
	r.publish(env)
	r.rejected(env, "U1", "value of expected_revenue")

	// The forgery did not spoil the real confirmation.
	r.publish(c.Env)
	bustest.Eventually(t, 10*time.Second, func() bool { return len(r.resultsOf(c.Env.ID)) == 1 }, "the genuine command got no result")
	if res := r.resultsOf(c.Env.ID)[0]; !res.OK || len(res.IDs) != 1 {
		t.Fatalf("genuine: %+v", res)
	}
	if a := r.auditOf(c.Env.ID); a.Outcome != "ok" || a.Actor != "U1" {
		t.Fatalf("genuine audit %+v", a)
	}
	if n := r.sim.Calls("crm.lead.create"); n != 1 {
		t.Fatalf("want exactly one write, got %d", n)
	}
	if n := r.sim.Count("crm.lead", []any{"expected_revenue", "=", 500000}); n != 0 {
		t.Fatal("the altered value reached Odoo")
	}
}

func TestERPConfirmedBySomeoneElseIsRejected(t *testing.T) {
	r := startERP(t)
	c := r.confirm(lead)
	other := c.Command
	other.ConfirmedBy = "U2"
	env, _ := erptest.CommandEnvelope(other, asker)
	r.publish(env)
	r.rejected(env, "U2", "only they may confirm")

	// U2's own (genuine, from ingress) Confirm click on U1's proposal.
	click, _ := schemas.New("", schemas.TypeSlackAction, "ingress", schemas.SlackAction{ActionID: schemas.ActionERPConfirm,
		BlockID: schemas.ConfirmBlockID(c.Proposal.Digest), Value: c.Proposal.ID})
	click.Team, click.Channel, click.User = "T1", "C1", "U2"
	raw, _ := click.Marshal()
	ack, err := r.b.JetStream().Publish(context.Background(), schemas.InSubject(schemas.KindAction, "T1", "C1"), raw)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Proposal
	p.DecidedBy, p.DecidedEvent, p.DecidedSeq = "U2", click.ID, ack.Sequence
	if err := erptest.Store(context.Background(), r.b.JetStream(), &p); err != nil {
		t.Fatal(err)
	}
	other.Confirmation = &schemas.ERPConfirmation{EventID: click.ID, StreamSeq: ack.Sequence}
	env2, _ := erptest.CommandEnvelope(other, asker)
	r.publish(env2)
	r.rejected(env2, "U2", "only they may confirm")
	if n := r.writes(); n != 0 {
		t.Fatalf("wrote %d time(s)", n)
	}
}

func TestERPReplayedCommandDoesNotWriteAgain(t *testing.T) {
	r := startERP(t)
	c := r.confirm(lead)
	r.publish(c.Env)
	bustest.Eventually(t, 10*time.Second, func() bool { return len(r.resultsOf(c.Env.ID)) == 1 }, "no result")
	// ai records the outcome on the proposal, as it does on the result.
	p := c.Proposal
	p.Status = schemas.ProposalDone
	if err := erptest.Store(context.Background(), r.b.JetStream(), &p); err != nil {
		t.Fatal(err)
	}

	// The same command re-published under a new message id.
	again, _ := erptest.CommandEnvelope(c.Command, asker)
	r.publish(again)
	if a := r.auditOf(again.ID); a.Outcome != "duplicate" || !strings.Contains(a.Detail, c.Env.ID) {
		t.Fatalf("audit of the repeat %+v", a)
	}

	// maria replay --to original over MARIA_ERP: commands are skipped.
	ctx := context.Background()
	sel, err := ops.Select(ctx, r.b.JetStream(), schemas.StreamERP, ops.Window{FromSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ops.Replay(ctx, r.b.JetStream(), schemas.StreamERP, sel, r.b, ops.ReplayOptions{Mode: ops.ToOriginal, RunID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 2 {
		t.Fatalf("replay %+v: want both commands skipped", res)
	}
	// Even a command that got through (e.g. re-published by hand) after
	// the replay finds the proposal executed.
	third, _ := erptest.CommandEnvelope(c.Command, asker)
	r.publish(third)
	r.auditOf(third.ID)
	if n := r.writes(); n != 1 {
		t.Fatalf("want exactly one write to Odoo, got %d", n)
	}
	if n := r.sim.Count("crm.lead", []any{"name", "=", "Acme"}); n != 1 {
		t.Fatalf("want one lead, got %d", n)
	}
}
