package erp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
)

// Command ops.
const (
	OpCreate = "create"
	OpWrite  = "write"
)

// ReadOnlyRefusal answers every command when MARIA_ERP_READ_ONLY is set
// (the sandbox of `maria replay`).
const ReadOnlyRefusal = "refused: sandbox (read-only)"

// executed is what the idempotency record stores for a command.
type executed struct {
	// Result is the published outcome (nil while Uncertain).
	Result *schemas.ERPResult `json:"result,omitempty"`
	// Uncertain: a create was sent but no answer came back (timeout,
	// connection reset): the next delivery must reconcile before creating.
	Uncertain bool `json:"uncertain,omitempty"`
	// Since is when the first attempt started (reconciliation window).
	Since time.Time `json:"since"`
}

// Processor is the durable "erp" consumer of maria.erp.command.>.
func (s *Service) Processor(idem *kv.Idempotency) bus.Processor {
	spec, _ := schemas.ConsumerByName("erp")
	p := bus.FromSpec(spec, func(ctx context.Context, m *bus.Msg) error { return s.HandleCommand(ctx, m, idem) })
	p.Log = &s.log
	if s.tune != nil {
		s.tune(&p)
		s.maxDeliver = p.MaxDeliver
	}
	return p
}

// HandleCommand executes one confirmed write exactly once.
func (s *Service) HandleCommand(ctx context.Context, m *bus.Msg, idem *kv.Idempotency) error {
	var cmd schemas.ERPCommand
	if err := decodeStrict(m.Env.Data, &cmd); err != nil {
		return bus.Permanent(fmt.Errorf("%w: %s data: %v", schemas.ErrInvalidEnvelope, m.Env.Type, err))
	}
	if m.Env.Type != schemas.TypeERPCommand {
		return bus.Permanent(fmt.Errorf("%w: type %q on an ERP command subject, want %s", schemas.ErrInvalidEnvelope, m.Env.Type, schemas.TypeERPCommand))
	}
	if subj, err := schemas.ParseSubject(m.Subject); err == nil && cmd.Model != "" && schemas.ERPCommandSubject(cmd.Model) != m.Subject {
		return bus.Permanent(fmt.Errorf("%w: model %q published on %s (model %s)", schemas.ErrInvalidEnvelope, cmd.Model, m.Subject, subj.Model))
	}
	if s.cfg.ReadOnly {
		// Answered like any refusal (result ok:false, audit), never executed.
		res := s.result(m, &cmd, nil, refused(ReadOnlyRefusal))
		metricCommands.WithLabelValues(opLabel(cmd.Op), "refused").Inc()
		return s.publish(ctx, m, &cmd, res, ReadOnlyRefusal)
	}
	// The proposal, not the message, is the unit of execution: a replay or
	// a re-publish under a new message id finds the same record.
	key := proposalKey(cmd.ProposalID)
	conf, err := s.verify(ctx, m, &cmd, func(ctx context.Context) (bool, error) {
		_, ok, err := idem.Get(ctx, key)
		return ok, err
	})
	if err != nil {
		var rej *RejectedError
		if errors.As(err, &rej) {
			return s.reject(ctx, m, &cmd, conf, rej)
		}
		return bus.Retry(err)
	}
	values, err := s.checkCommand(&cmd)
	if err != nil {
		// Refused: tell the user and the audit trail, and ack — retrying
		// the same command can never succeed.
		res := s.result(m, &cmd, nil, err)
		metricCommands.WithLabelValues(opLabel(cmd.Op), "refused").Inc()
		return s.publish(ctx, m, &cmd, res, "refused: "+plainError(err))
	}
	// The write runs as the Odoo user of whoever confirmed it.
	who, err := s.whoFor(ctx, m.Env.Team, cmd.ConfirmedBy, true)
	var nc *NotConnectedError
	if errors.As(err, &nc) {
		res := s.result(m, &cmd, nil, err)
		metricCommands.WithLabelValues(opLabel(cmd.Op), "refused").Inc()
		return s.publishAs(ctx, m, &cmd, res, "refused: "+nc.Error(), runAs{slackUser: cmd.ConfirmedBy, policy: s.cfg.IdentityPolicy})
	}
	if err != nil {
		return bus.Retry(err)
	}
	// In every company the confirming user works in: an action on another
	// company's record is theirs to run as in Odoo's company switcher.
	companies, err := s.companiesOf(ctx, who)
	if err != nil {
		return bus.Retry(err)
	}
	ctx = companyContext(ctx, companies)

	rec, done, err := idem.Begin(ctx, key)
	since := time.Now().UTC()
	reconcile := false
	switch {
	case errors.Is(err, kv.ErrInFlight):
		// Someone holds the claim: come back when it would turn stale.
		wait := 5 * time.Second
		if rec != nil {
			wait = min(max(s.cfg.ClaimStale-time.Since(rec.Claimed)+100*time.Millisecond, 100*time.Millisecond), 30*time.Second)
		}
		return bus.RetryAfter(err, wait)
	case err != nil:
		return bus.Retry(err)
	case done:
		var st executed
		if jerr := json.Unmarshal(rec.Result, &st); jerr != nil {
			return bus.Permanent(fmt.Errorf("idempotency record of %s: %w", key, jerr))
		}
		if !st.Uncertain && st.Result != nil {
			metricCommands.WithLabelValues(opLabel(cmd.Op), "duplicate").Inc()
			m.Log.Info().Str("model", cmd.Model).Str("proposal", cmd.ProposalID).Msg("proposal already executed; not repeating it")
			return s.duplicate(ctx, m, &cmd, st.Result)
		}
		since, reconcile = st.Since, true
	case rec != nil:
		// A stale claim taken over: the replica that held it may have
		// executed the command before dying.
		since, reconcile = rec.Claimed, true
	}

	res, err := s.execute(ctx, m, &cmd, values, since, reconcile, who)
	if err != nil {
		// Odoo unavailable: keep the claim marked uncertain when the
		// create may have happened, release it otherwise, and retry.
		// On the last delivery the claim is kept (uncertain) for every op, so
		// that an operator's re-drive of the dead letter, once Odoo is
		// back, finds this proposal's attempt recorded and may finish it.
		last := int(m.Delivery) >= s.maxDeliver
		if last || (cmd.Op == OpCreate || cmd.Op == OpAction) && (odoo.MaybeExecuted(err) || reconcile) {
			if ferr := idem.Finish(ctx, key, executed{Uncertain: true, Since: since}); ferr != nil {
				m.Log.Warn().Err(ferr).Msg("could not mark command uncertain")
			}
		} else if rerr := idem.Release(ctx, key); rerr != nil {
			m.Log.Warn().Err(rerr).Msg("could not release command claim")
		}
		if last {
			// Last attempt: the user hears it now; operators can re-drive
			// the dead letter once Odoo is back.
			res := s.result(m, &cmd, nil, err)
			if odoo.MaybeExecuted(err) || reconcile {
				res.Error += ". Odoo did not confirm whether the change was applied; check Odoo before trying again"
			} else {
				res.Error += ". The change was not applied"
			}
			if perr := s.publishAs(ctx, m, &cmd, res, "failed: "+res.Error, who); perr != nil {
				m.Log.Warn().Err(perr).Msg("could not publish the final failure")
			}
		}
		return bus.Retry(err)
	}
	if err := idem.Finish(ctx, key, executed{Result: res, Since: since}); err != nil {
		// The effect happened; the claim stays pending and goes stale, and
		// the next delivery reconciles instead of executing again.
		return bus.Retry(fmt.Errorf("record executed command: %w", err))
	}
	s.cache.invalidate(cmd.Model)
	return s.publishAs(ctx, m, &cmd, res, outcomeWords(res), who)
}

// execute performs the write. A retryable (unavailable) error is returned
// as an error; every other outcome, success or Odoo's refusal, as a result.
func (s *Service) execute(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, values map[string]any, since time.Time, reconcile bool, who runAs) (*schemas.ERPResult, error) {
	c := who.client
	var ids []int64
	var err error
	outcome := "ok"
	switch cmd.Op {
	case OpCreate:
		var id int64
		if reconcile {
			id, err = s.findCreated(ctx, c, cmd.Model, values, since)
			if err != nil {
				return nil, err
			}
			if id != 0 {
				outcome = "reconciled"
				m.Log.Info().Str("model", cmd.Model).Int64("id", id).Msg("create found already executed; not repeating it")
			}
		}
		if id == 0 {
			id, err = c.Create(ctx, cmd.Model, values)
		}
		if err == nil {
			ids = []int64{id}
		}
	case OpWrite:
		// write assigns absolute values: repeating it after an uncertain
		// attempt leaves the same state, so no reconciliation is needed.
		err = c.Write(ctx, cmd.Model, cmd.IDs, values)
		ids = cmd.IDs
	case OpAction:
		ids = cmd.IDs
		_, err = c.CallMethod(ctx, cmd.Model, cmd.Method, cmd.IDs)
		if e, ok := odoo.AsError(err); ok && reconcile && e.Kind == odoo.KindValidation {
			// An earlier attempt whose answer was lost may have done it:
			// Odoo now refuses the repeat (e.g. already confirmed).
			err = &odoo.Error{Kind: odoo.KindValidation, Op: e.Op,
				Message: e.Message + " (an earlier attempt of this confirmation may already have done it; check Odoo)"}
		}
	}
	if err != nil && odoo.IsRetryable(err) {
		return nil, err
	}
	res := s.result(m, cmd, ids, err)
	if err != nil {
		outcome = res.Kind
		if who.personal {
			res.Error = personalError(err, who)
		}
	}
	metricCommands.WithLabelValues(opLabel(cmd.Op), outcome).Inc()
	return res, nil
}

// findCreated looks for a record an earlier, unconfirmed attempt of this
// create may have made: created since the first attempt (minus clock
// slack) with the same identifying values. Floats, texts with markup and
// relations lists are left out of the match because Odoo may store them
// differently from how they were sent.
func (s *Service) findCreated(ctx context.Context, c odoo.Client, model string, values map[string]any, since time.Time) (int64, error) {
	domain := []any{[]any{"create_date", ">=", since.Add(-2 * time.Minute).UTC().Format(time.DateTime)}}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := values[k].(type) {
		case string:
			if v != "" && len(v) <= 200 && !strings.Contains(v, "<") {
				domain = append(domain, []any{k, "=", v})
			}
		case int64:
			domain = append(domain, []any{k, "=", v})
		case bool:
			domain = append(domain, []any{k, "=", v})
		}
	}
	ids, err := c.Search(ctx, model, domain, odoo.SearchOptions{Limit: 1, Order: "id desc"})
	if err != nil {
		if odoo.IsRetryable(err) {
			return 0, err
		}
		// Cannot reconcile (e.g. the model has no create_date): better to
		// stop than to risk a duplicate.
		return 0, &odoo.Error{Kind: odoo.KindServer, Op: model + ".search", Message: "cannot check whether an earlier attempt created the record: " + plainError(err)}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// checkCommand validates a command against the write allow-list and
// returns its values ready for the wire.
func (s *Service) checkCommand(cmd *schemas.ERPCommand) (map[string]any, error) {
	switch cmd.Op {
	case OpCreate, OpWrite:
	case OpAction:
		return nil, s.checkAction(cmd)
	default:
		return nil, refused("op %q is not supported (create, write, action)", cmd.Op)
	}
	if cmd.Model == "" {
		return nil, refused("model is required")
	}
	if cmd.Method != "" {
		return nil, refused("%s takes no method (only action does)", cmd.Op)
	}
	if !s.cfg.Write.Model(cmd.Model) {
		return nil, refused("model %s is not open to changes by Maria (allowed: %v)", cmd.Model, s.cfg.Write.Models())
	}
	if cmd.Op == OpWrite {
		if len(cmd.IDs) == 0 {
			return nil, refused("write needs the ids of the records to change")
		}
		if len(cmd.IDs) > s.cfg.MaxLimit {
			return nil, refused("write changes at most %d records at once", s.cfg.MaxLimit)
		}
		for _, id := range cmd.IDs {
			if id <= 0 {
				return nil, refused("ids must be positive, got %d", id)
			}
		}
	} else if len(cmd.IDs) > 0 {
		return nil, refused("create takes no ids")
	}
	if len(cmd.Values) == 0 {
		return nil, refused("values are empty: nothing to %s", cmd.Op)
	}
	out := make(map[string]any, len(cmd.Values))
	for k, v := range cmd.Values {
		if !fieldRe.MatchString(k) || k == "id" || k == "display_name" {
			return nil, refused("%q cannot be written", k)
		}
		if !s.cfg.Write.Field(cmd.Model, k) {
			return nil, refused("field %s of %s is not open to changes by Maria", k, cmd.Model)
		}
		wv, err := writeValue(k, v)
		if err != nil {
			return nil, err
		}
		out[k] = wv
	}
	return out, nil
}

// writeValue accepts scalars, null (→ false), a record reference
// {"id": n, ...} (→ n) and a list of ids (sets a many2many).
func writeValue(field string, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := odoo.Sanitize(x["id"]).(int64); ok && id > 0 {
			return id, nil
		}
		return nil, refused("field %s: an object value must be a record reference {\"id\": n}", field)
	case []any:
		ids := make([]any, 0, len(x))
		for _, e := range x {
			id, ok := odoo.Sanitize(e).(int64)
			if !ok || id <= 0 {
				return nil, refused("field %s: a list value must be record ids (x2many commands are not supported)", field)
			}
			ids = append(ids, id)
		}
		return ids, nil
	case string:
		if len(x) > 100_000 {
			return nil, refused("field %s: value too long", field)
		}
		return x, nil
	}
	s, err := scalar(v)
	if err != nil {
		return nil, refused("field %s: %s", field, err.(*RefusedError).Reason)
	}
	return s, nil
}

// result builds the outcome of a command; err nil means success.
func (s *Service) result(m *bus.Msg, cmd *schemas.ERPCommand, ids []int64, err error) *schemas.ERPResult {
	res := &schemas.ERPResult{CommandID: m.Env.ID, Op: cmd.Op, Model: cmd.Model, ProposalID: cmd.ProposalID}
	if err != nil {
		res.Error, res.Kind = plainError(err), replyKind(err)
		return res
	}
	res.OK, res.IDs = true, ids
	if len(ids) == 1 && s.cfg.PublicURL != "" {
		res.URL = schemas.OdooRecordLink(s.cfg.PublicURL, cmd.Model, ids[0], s.odooMajor())
	}
	return res
}

// publish sends the result (child "result") and the audit record (child
// "audit"); their ids derive from the command id, so a redelivery that
// publishes again is deduplicated by the stream.
func (s *Service) publish(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, res *schemas.ERPResult, outcome string) error {
	return s.publishAs(ctx, m, cmd, res, outcome, runAs{})
}

// publishAs is publish for a command that ran (or was refused) as who: the
// audit record names the Odoo user and the policy that allowed it.
func (s *Service) publishAs(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, res *schemas.ERPResult, outcome string, who runAs) error {
	if _, err := m.Publish(ctx, schemas.ERPResultSubject(modelOrBlank(cmd.Model)), "result", schemas.TypeERPResult, res); err != nil {
		return err
	}
	audit := schemas.Audit{Action: "erp_write", Actor: cmd.ConfirmedBy, Model: cmd.Model, Op: cmd.Op,
		Detail: auditDetail(cmd, res), Outcome: outcome, SlackUser: cmd.ConfirmedBy, RunAs: who.login, Policy: who.policy}
	if _, err := m.Publish(ctx, schemas.AuditSubject("erp_write"), "audit", schemas.TypeAudit, audit); err != nil {
		return err
	}
	return nil
}

func auditDetail(cmd *schemas.ERPCommand, res *schemas.ERPResult) string {
	fields := make([]string, 0, len(cmd.Values))
	for k := range cmd.Values {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	d := fmt.Sprintf("%s %s fields [%s]", cmd.Op, cmd.Model, strings.Join(fields, ", "))
	if cmd.Op == OpAction {
		d = fmt.Sprintf("action %s.%s", cmd.Model, cmd.Method)
	}
	if len(res.IDs) > 0 {
		d += fmt.Sprintf(" ids %v", res.IDs)
	} else if len(cmd.IDs) > 0 {
		d += fmt.Sprintf(" ids %v", cmd.IDs)
	}
	if cmd.ProposalID != "" {
		d += " proposal " + cmd.ProposalID
	}
	return d
}

func outcomeWords(res *schemas.ERPResult) string {
	if res.OK {
		return "ok"
	}
	return "failed (" + res.Kind + "): " + res.Error
}

func opLabel(op string) string {
	if op == OpCreate || op == OpWrite || op == OpAction {
		return op
	}
	return "other"
}
