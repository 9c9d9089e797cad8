package erp

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// AuditQueryKind is the audit kind of an answered read: one audit.v1 record
// per query on maria.audit.erp_query. Queries travel request/reply, in no
// stream, so without it `maria trace` could not show the ERP hop of a turn,
// and nobody could tell afterwards what Maria read from Odoo for whom.
const AuditQueryKind = "erp_query"

// auditQuery records an answered query on the audit trail, after the reply
// went out: asynchronously, so it adds nothing to the query's latency, and
// best effort — a read is not an effect, and a lost record must never fail
// or delay the answer. The record carries the requester's correlation id
// (the turn) and, as causation, the message the requester was handling
// (Maria-Causation-Id; the turn when the request names none).
func (s *Service) auditQuery(ctx context.Context, js jetstream.JetStream, h nats.Header, q schemas.ERPQuery, rep *schemas.ERPReply, who runAs, took time.Duration) {
	if js == nil {
		return
	}
	a := queryAudit(s.cfg.Odoo.Username, q, rep, took)
	a.SlackUser, a.Policy, a.RunAs = q.User, s.cfg.IdentityPolicy, who.login
	if who.policy != "" {
		a.Policy = who.policy
	}
	env, err := schemas.New("", schemas.TypeAudit, "erp", a)
	if err != nil {
		s.log.Warn().Err(err).Msg("erp query audit: encode")
		return
	}
	if corr := h.Get(schemas.HeaderCorrelationID); corr != "" {
		env.CorrelationID, env.CausationID = corr, corr
	}
	if cause := h.Get(schemas.HeaderCausationID); cause != "" {
		env.CausationID = cause
	}
	msg, err := bus.EnvelopeMsg(ctx, schemas.AuditSubject(AuditQueryKind), env)
	if err == nil {
		_, err = js.PublishMsgAsync(msg)
	}
	if err != nil {
		s.log.Warn().Err(err).Str("correlation_id", env.CorrelationID).Msg("erp query audit not recorded")
	}
}

// queryAudit is the record of one answered query: the query as asked, and
// what came back (never the records themselves).
func queryAudit(actor string, q schemas.ERPQuery, rep *schemas.ERPReply, took time.Duration) schemas.Audit {
	asked, _ := json.Marshal(q)
	outcome := rep.Kind
	if outcome == "" && rep.Error == "" {
		outcome = "ok"
	}
	var got string
	switch {
	case rep.Error != "":
		got = rep.Error
	case rep.Count != nil:
		got = fmt.Sprintf("count %d", *rep.Count)
	case rep.Fields != nil:
		got = fmt.Sprintf("%d field(s)", len(rep.Fields))
	default:
		got = fmt.Sprintf("%d record(s)", len(rep.Records))
	}
	if rep.Cached {
		got += ", cached"
	}
	return schemas.Audit{Action: AuditQueryKind, Actor: actor, Model: q.Model, Op: q.Method,
		Detail: fmt.Sprintf("%s → %s in %s", asked, got, took.Round(time.Millisecond)), Outcome: outcome}
}
