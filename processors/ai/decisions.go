package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
)

// onAction handles a click on a proposal's Confirm or Cancel button.
//
// Only the user who asked may decide. The decision is claimed with a KV
// compare-and-set from pending, so of two clicks (or a click and its
// redelivery racing on two replicas) exactly one wins; the winner's event id
// is stored, and a redelivery of the winning click republishes the same
// deterministic messages (deduplicated by the streams) instead of doing
// anything new.
func (p *Processor) onAction(ctx context.Context, m *bus.Msg) error {
	a, err := schemas.DecodeData[schemas.SlackAction](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	if a.ActionID == schemas.ActionERPConnect {
		return p.onConnectClick(ctx, m, schemas.OutSubject(m.Env.Team, m.Env.Channel), a)
	}
	if a.ActionID != ActionConfirm && a.ActionID != ActionCancel {
		metricEvents.WithLabelValues("action", "ignored_action").Inc()
		return nil
	}
	clicker := m.Env.User
	prop, err := p.proposals.Get(ctx, a.Value)
	if err == nil && prop.Team != m.Env.Team {
		// Another workspace's proposal is not this one's to see or decide.
		err = ErrNoProposal
	}
	if errors.Is(err, ErrNoProposal) {
		metricEvents.WithLabelValues("action", "proposal_unknown").Inc()
		_, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "unknown-proposal", schemas.TypeOutEphemeral,
			schemas.OutEphemeral{User: clicker, ThreadTS: m.Env.ThreadTS, Text: "This proposal has expired or is unknown, so nothing was changed. Ask me again if you still want it."})
		return err
	}
	if err != nil {
		return bus.Retry(err)
	}
	out := schemas.OutSubject(prop.Team, prop.Channel)
	decision, auditKind := ProposalConfirmed, "confirm"
	if a.ActionID == ActionCancel {
		decision, auditKind = ProposalCancelled, "cancel"
	}
	if clicker != prop.User {
		metricEvents.WithLabelValues("action", "refused_not_owner").Inc()
		if _, err := m.Publish(ctx, schemas.AuditSubject(auditKind), "audit", schemas.TypeAudit, schemas.Audit{
			Action: auditKind, Actor: clicker, Model: prop.Command.Model, Op: prop.Command.Op,
			Detail: "proposal " + prop.ID + " belongs to " + prop.User, Outcome: "refused_not_owner"}); err != nil {
			return err
		}
		_, err := m.Publish(ctx, out, "not-owner", schemas.TypeOutEphemeral, schemas.OutEphemeral{User: clicker, ThreadTS: prop.ThreadTS,
			Text: fmt.Sprintf("Only <@%s>, who asked for this change, can confirm or cancel it.", prop.User)})
		return err
	}
	if a.ActionID == ActionConfirm {
		// The policy is judged again at the click: the clicker's kind comes
		// from this (signed, ingress-classified) click, and an admin may have
		// closed the channel to writes since the proposal was made.
		// Cancelling stays possible: it changes nothing in Odoo.
		policy, err := p.policyFor(ctx, prop.Team)
		if err != nil {
			return err
		}
		if access := policy.Access(m.Env.UserKind, prop.Channel, ""); !access.write {
			return p.refuseConfirm(ctx, m, prop, access)
		}
	}
	for attempt := 0; attempt < 5; attempt++ {
		if prop.Status == ProposalPending {
			won, err := p.proposals.Transition(ctx, prop, func(n *Proposal) {
				n.Status, n.DecidedBy, n.DecidedEvent, n.Decided = decision, clicker, m.Env.ID, p.now().UTC()
				n.DecidedSeq = m.Sequence
				if a.MessageTS != "" {
					n.MessageTS = a.MessageTS
				}
			})
			if err != nil {
				return bus.Retry(err)
			}
			if !won {
				if prop, err = p.proposals.Get(ctx, prop.ID); err != nil {
					return bus.Retry(err)
				}
				continue
			}
			return p.applyDecision(ctx, m, prop, auditKind)
		}
		if prop.DecidedEvent == m.Env.ID {
			// Redelivery of the click that won: finish what it started.
			return p.applyDecision(ctx, m, prop, auditKind)
		}
		metricEvents.WithLabelValues("action", "already_decided").Inc()
		_, err := m.Publish(ctx, out, "already-decided", schemas.TypeOutEphemeral, schemas.OutEphemeral{User: clicker, ThreadTS: prop.ThreadTS,
			Text: fmt.Sprintf("This change was already %s by <@%s>; nothing more to do.", statusWord(prop.Status), prop.DecidedBy)})
		return err
	}
	return bus.Retry(errors.New("proposal: too many concurrent decisions"))
}

func statusWord(s string) string {
	switch s {
	case ProposalCancelled:
		return "cancelled"
	case ProposalDone:
		return "confirmed and done"
	case ProposalFailed:
		return "confirmed (and it failed)"
	}
	return "confirmed"
}

// applyDecision publishes the effects of the winning click. Every message is
// a deterministic child of the click, so repeating it is harmless.
func (p *Processor) applyDecision(ctx context.Context, m *bus.Msg, prop *Proposal, auditKind string) error {
	out := schemas.OutSubject(prop.Team, prop.Channel)
	cmd := prop.Command
	cmd.ProposalID = prop.ID
	cmd.ConfirmedBy = prop.DecidedBy
	// The click that won, by its MARIA_IN sequence: the erp service reads
	// it back to check a human confirmed this very change.
	cmd.Confirmation = &schemas.ERPConfirmation{EventID: prop.DecidedEvent, StreamSeq: prop.DecidedSeq}
	values, _ := json.Marshal(cmd.Values)
	detail := fmt.Sprintf("proposal %s: %s %s", prop.ID, cmd.Op, cmd.Model)
	if len(cmd.IDs) > 0 {
		detail += fmt.Sprintf(" ids %v", cmd.IDs)
	}
	detail += " " + truncate(string(values), 1000)

	if prop.Status == ProposalConfirmed {
		env, err := m.Env.Child("erp-command", schemas.TypeERPCommand, source, cmd)
		if err != nil {
			return bus.Permanent(err)
		}
		env.Team, env.Channel, env.User = prop.Team, prop.Channel, prop.DecidedBy
		if env.ThreadTS == "" {
			env.ThreadTS = prop.ThreadTS
		}
		if _, err := m.Bus().Publish(ctx, schemas.ERPCommandSubject(cmd.Model), env); err != nil {
			return bus.Retry(err)
		}
	}
	if _, err := m.Publish(ctx, schemas.AuditSubject(auditKind), "audit", schemas.TypeAudit, schemas.Audit{
		Action: auditKind, Actor: prop.DecidedBy, Model: cmd.Model, Op: cmd.Op, Detail: detail, Outcome: "accepted"}); err != nil {
		return err
	}
	status := fmt.Sprintf("✅ Confirmed by <@%s> — executing…", prop.DecidedBy)
	note := fmt.Sprintf("<@%s> confirmed the proposal to %s; it is being executed", prop.DecidedBy, Describe(prop))
	if auditKind == "cancel" {
		status = fmt.Sprintf("✖️ Cancelled by <@%s> — nothing was changed.", prop.DecidedBy)
		note = fmt.Sprintf("<@%s> cancelled the proposal to %s; nothing was changed", prop.DecidedBy, Describe(prop))
	}
	if prop.Status == ProposalDone || prop.Status == ProposalFailed {
		// The result arrived already and rewrote the message; leave it.
		return nil
	}
	if _, err := m.Publish(ctx, out, "decision-update", schemas.TypeOutUpdate, proposalUpdate(prop, status)); err != nil {
		return err
	}
	metricEvents.WithLabelValues("action", "proposal_"+statusWord(prop.Status)).Inc()
	p.remember(ctx, m, prop, m.Env.ID+"/decision", note)
	return nil
}

func proposalUpdate(prop *Proposal, status string) schemas.OutUpdate {
	u := schemas.OutUpdate{Text: strings.TrimSpace(Describe(prop) + " — " + status), Blocks: DecidedBlocks(prop, status)}
	if prop.MessageTS != "" {
		u.TS = prop.MessageTS
	} else {
		u.Ref = prop.Ref
	}
	return u
}

// remember adds a note to the proposal's thread memory (best effort).
func (p *Processor) remember(ctx context.Context, m *bus.Msg, prop *Proposal, id, note string) {
	if prop.ThreadTS == "" {
		return
	}
	err := p.mem.Append(ctx, ThreadKey(prop.Team, prop.Channel, prop.ThreadTS), 0,
		Entry{ID: id, Role: RoleNote, Text: note, At: p.now().UTC()})
	if err != nil {
		m.Log.Warn().Err(err).Msg("ai: save thread memory")
	}
}

// HandleResult reports the outcome of a confirmed ERP write in the thread
// that asked for it and records it in the thread's memory.
func (p *Processor) HandleResult(ctx context.Context, m *bus.Msg) error {
	if m.Env.Type != schemas.TypeERPResult {
		metricEvents.WithLabelValues("erp_result", "ignored_type").Inc()
		return nil
	}
	res, err := schemas.DecodeData[schemas.ERPResult](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	var prop *Proposal
	if res.ProposalID != "" {
		prop, err = p.proposals.Get(ctx, res.ProposalID)
		if err != nil && !errors.Is(err, ErrNoProposal) {
			return bus.Retry(err)
		}
	}
	team, channel, thread := m.Env.Team, m.Env.Channel, m.Env.ThreadTS
	if prop != nil {
		team, channel, thread = prop.Team, prop.Channel, prop.ThreadTS
	}
	if team == "" || channel == "" {
		metricEvents.WithLabelValues("erp_result", "ignored_no_channel").Inc()
		m.Log.Info().Str("command_id", res.CommandID).Msg("ai: ERP result without a Slack conversation to report to")
		return nil
	}
	text := ResultText(res)
	out := schemas.OutSubject(team, channel)
	if _, err := m.Publish(ctx, out, "result", schemas.TypeOutPost, schemas.OutPost{Text: text, ThreadTS: thread}); err != nil {
		return err
	}
	if prop != nil {
		final := ProposalDone
		if !res.OK {
			final = ProposalFailed
		}
		for attempt := 0; attempt < 5 && prop.Status != final; attempt++ {
			won, err := p.proposals.Transition(ctx, prop, func(n *Proposal) { n.Status, n.Outcome = final, text })
			if err != nil {
				return bus.Retry(err)
			}
			if won {
				break
			}
			if prop, err = p.proposals.Get(ctx, prop.ID); err != nil {
				return bus.Retry(err)
			}
		}
		if _, err := m.Publish(ctx, out, "result-update", schemas.TypeOutUpdate, proposalUpdate(prop, text)); err != nil {
			return err
		}
		p.remember(ctx, m, prop, m.Env.ID+"/result", "ERP change result: "+text)
	} else if thread != "" {
		if err := p.mem.Append(ctx, ThreadKey(team, channel, thread), 0,
			Entry{ID: m.Env.ID + "/result", Role: RoleNote, Text: "ERP change result: " + text, At: p.now().UTC()}); err != nil {
			m.Log.Warn().Err(err).Msg("ai: save thread memory")
		}
	}
	outcome := "ok"
	if !res.OK {
		outcome = "failed"
	}
	metricEvents.WithLabelValues("erp_result", outcome).Inc()
	return nil
}

// ResultText says what happened to a write in plain words.
func ResultText(r *schemas.ERPResult) string {
	ids := make([]string, len(r.IDs))
	for i, id := range r.IDs {
		ids[i] = fmt.Sprintf("#%d", id)
	}
	what := r.Model
	if len(ids) > 0 {
		what += " " + strings.Join(ids, ", ")
	}
	link := ""
	if r.URL != "" {
		link = fmt.Sprintf(" — <%s|open in Odoo>", r.URL)
	}
	verb, failVerb := "Updated", "update"
	switch r.Op {
	case "create":
		verb, failVerb = "Created", "create"
	case "action":
		verb, failVerb = "Done on", "run the action on"
	}
	if r.OK {
		return fmt.Sprintf("✅ %s %s%s", verb, what, link)
	}
	reason := strings.TrimSpace(r.Error)
	if reason == "" {
		reason = "the ERP gave no reason"
	}
	hint := ""
	switch r.Kind {
	case "access":
		hint = " Odoo does not allow this for Maria's account."
	case "validation":
		hint = " Odoo rejected the values; ask me again with corrected ones."
	case "unavailable":
		hint = " The ERP could not be reached; nothing was changed, try again later."
	}
	return fmt.Sprintf("⚠️ I couldn't %s the %s: %s.%s", failVerb, r.Model, strings.TrimRight(reason, "."), hint)
}

// refuseConfirm answers a Confirm click the ERP policy does not allow: an
// audit record, an ephemeral reason to the clicker, and the proposal stays
// pending (nothing is published towards the erp service).
func (p *Processor) refuseConfirm(ctx context.Context, m *bus.Msg, prop *Proposal, access erpAccess) error {
	metricEvents.WithLabelValues("action", "refused_"+access.writeReason).Inc()
	if _, err := m.Publish(ctx, schemas.AuditSubject("confirm"), "audit", schemas.TypeAudit, schemas.Audit{
		Action: "confirm", Actor: m.Env.User, Model: prop.Command.Model, Op: prop.Command.Op,
		Detail: "proposal " + prop.ID + ": " + access.writeWhy, Outcome: "refused_" + access.writeReason}); err != nil {
		return err
	}
	_, err := m.Publish(ctx, schemas.OutSubject(prop.Team, prop.Channel), "confirm-refused", schemas.TypeOutEphemeral,
		schemas.OutEphemeral{User: m.Env.User, ThreadTS: prop.ThreadTS, Text: "Nothing was changed: " + access.writeWhy})
	return err
}
