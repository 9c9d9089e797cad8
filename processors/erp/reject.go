package erp

import (
	"context"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
)

// proposalKey is the idempotency key of a command: its proposal, so one
// confirmation executes at most once whatever message carries it.
func proposalKey(proposalID string) string { return "proposal-" + proposalID }

// reject refuses a command nobody can be shown to have confirmed: it is
// never executed, the audit trail records it under the actor it claims, and
// it is dead-lettered with the reason. The user hears of it only when their
// genuine click confirmed this very command; a forged command has no real
// user to tell.
func (s *Service) reject(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, c *confirmation, rej *RejectedError) error {
	metricCommands.WithLabelValues(opLabel(cmd.Op), "rejected").Inc()
	m.Log.Warn().Str("model", cmd.Model).Str("actor", cmd.ConfirmedBy).Str("proposal", cmd.ProposalID).
		Str("reason", rej.Reason).Msg("ERP command rejected")
	if c != nil && c.clicked {
		res := s.result(m, cmd, nil, refused("%s", rej.Reason))
		if _, err := m.Publish(ctx, schemas.ERPResultSubject(modelOrBlank(cmd.Model)), "result", schemas.TypeERPResult, res); err != nil {
			return err
		}
	}
	audit := schemas.Audit{Action: "erp_write", Actor: cmd.ConfirmedBy, Model: cmd.Model, Op: cmd.Op,
		Detail: auditDetail(cmd, &schemas.ERPResult{}) + ": " + rej.Reason, Outcome: "rejected"}
	if _, err := m.Publish(ctx, schemas.AuditSubject("erp_write"), "audit", schemas.TypeAudit, audit); err != nil {
		return err
	}
	return bus.Permanent(rej)
}

// duplicate answers a command whose proposal was executed already. The
// delivery that executed it (same message id) publishes the recorded
// outcome again, which the stream deduplicates; another message carrying
// the same proposal (a replay, a re-publish) is only audited: the user was
// told once.
func (s *Service) duplicate(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, res *schemas.ERPResult) error {
	if res.CommandID == m.Env.ID {
		return s.publish(ctx, m, cmd, res, outcomeWords(res))
	}
	audit := schemas.Audit{Action: "erp_write", Actor: cmd.ConfirmedBy, Model: cmd.Model, Op: cmd.Op,
		Detail: auditDetail(cmd, res) + ": already executed by command " + res.CommandID + ", not repeated", Outcome: "duplicate"}
	_, err := m.Publish(ctx, schemas.AuditSubject("erp_write"), "audit", schemas.TypeAudit, audit)
	return err
}

func modelOrBlank(model string) string {
	if model == "" {
		return "_"
	}
	return model
}
