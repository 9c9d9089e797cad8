package erp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/processors/erp/erptest"
	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/nats-io/nats.go"
)

type harness struct {
	t   *testing.T
	sim *odoosim.Server
	b   *bus.Bus
	s   *Service
	qc  QueryClient
	// results and audits (of writes; queryAudits of reads) collect what
	// the service published.
	results     func() []*nats.Msg
	audits      func() []*nats.Msg
	queryAudits func() []*nats.Msg
	dlq         func() []*nats.Msg
}

// start runs the service over an embedded NATS and the simulator. wrap, if
// set, wraps the command handler (to force redeliveries).
func start(t *testing.T, mut func(*Config), wrap func(bus.Handler) bus.Handler) *harness {
	t.Helper()
	return startOn(t, odoosim.New(t), mut, wrap)
}

// startOn is start against a given simulator (another Odoo version).
func startOn(t *testing.T, sim *odoosim.Server, mut func(*Config), wrap func(bus.Handler) bus.Handler) *harness {
	t.Helper()
	cfg := Config{
		Odoo:     odoo.Config{URL: sim.URL, DB: sim.DB, Username: sim.User, Password: sim.Password, Timeout: 2 * time.Second},
		Protocol: "xmlrpc", MaxLimit: 80, CacheTTL: time.Minute, CacheSize: 100, SchemaTTL: time.Minute,
		BreakerThreshold: 3, BreakerCooldown: 300 * time.Millisecond, QueryConcurrency: 8, QueryTimeout: 5 * time.Second,
		IdempotencyTTL: time.Hour, ClaimStale: 300 * time.Millisecond,
	}
	if mut != nil {
		mut(&cfg)
	}
	client, err := NewOdooClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := bustest.New(t)
	s := New(cfg, client, bustest.Logger(t))
	s.tune = func(p *bus.Processor) {
		p.BackOff = []time.Duration{20 * time.Millisecond}
		p.MaxDeliver = 4
		p.AckWait = 5 * time.Second
		if wrap != nil {
			p.Handle = wrap(p.Handle)
		}
	}
	h := &harness{t: t, sim: sim, b: b, s: s, qc: QueryClient{NC: bustest.Client(t, b, nil).Conn(), Timeout: 10 * time.Second},
		results:     bustest.Subscribe(t, b, schemas.SubjectERPResultAll),
		audits:      bustest.Subscribe(t, b, schemas.AuditSubject("erp_write")),
		queryAudits: bustest.Subscribe(t, b, schemas.AuditSubject(AuditQueryKind)),
		dlq:         bustest.Subscribe(t, b, schemas.SubjectDLQAll)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, b) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service stopped with %v", err)
		}
	})
	bustest.Eventually(t, 5*time.Second, func() bool {
		_, err := h.qc.Query(context.Background(), schemas.ERPQuery{Method: "fields_get", Model: "res.users"})
		return err == nil && s.Ready(context.Background()) != errNotChecked
	}, "query service did not come up, or Odoo was not checked")
	sim.ResetCalls()
	return h
}

func (h *harness) query(q schemas.ERPQuery) *schemas.ERPReply {
	h.t.Helper()
	rep, err := h.qc.Query(context.Background(), q)
	if err != nil {
		h.t.Fatalf("query %+v: %v", q, err)
	}
	return rep
}

// command publishes cmd as ai does after a genuine Confirm click by
// cmd.ConfirmedBy (U1 when empty) in T1/C1: proposal, click and command.
func (h *harness) command(cmd schemas.ERPCommand) *schemas.Envelope {
	h.t.Helper()
	user := cmd.ConfirmedBy
	if user == "" {
		user = "U1"
	}
	c, err := erptest.Confirm(context.Background(), h.b.JetStream(), cmd, erptest.Conversation{Team: "T1", Channel: "C1", User: user})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.b.Publish(context.Background(), schemas.ERPCommandSubject(cmd.Model), c.Env); err != nil {
		h.t.Fatal(err)
	}
	return c.Env
}

// resultFor waits for the result of command id (deduplicated: redelivered
// handlers publish the same child id again).
func (h *harness) resultFor(id string) *schemas.ERPResult {
	h.t.Helper()
	var res *schemas.ERPResult
	bustest.Eventually(h.t, 10*time.Second, func() bool {
		for _, m := range h.results() {
			env, err := schemas.Decode(m.Data)
			if err != nil {
				h.t.Fatal(err)
			}
			if env.CausationID == id {
				res, _ = schemas.DecodeData[schemas.ERPResult](env)
				return true
			}
		}
		return false
	}, "no result for command %s", id)
	return res
}

func distinctIDs(msgs []*nats.Msg) map[string]*schemas.Envelope {
	out := map[string]*schemas.Envelope{}
	for _, m := range msgs {
		if env, err := schemas.Decode(m.Data); err == nil {
			out[env.ID] = env
		}
	}
	return out
}

func TestQuerySearchReadShapes(t *testing.T) {
	h := start(t, nil, nil)
	rep := h.query(schemas.ERPQuery{Method: "search_read", Model: "sale.order",
		Domain: []any{[]any{"partner_id.name", "ilike", "azure"}, []any{"state", "in", []any{"sale", "sent"}}},
		Fields: []string{"name", "partner_id", "state", "amount_total", "validity_date", "commitment_date"}, Order: "name"})
	if rep.Error != "" {
		t.Fatalf("error reply: %s (%s)", rep.Error, rep.Kind)
	}
	if len(rep.Records) != 2 {
		t.Fatalf("want S00042 and S00045, got %v", rep.Records)
	}
	r := rep.Records[0]
	if r["name"] != "S00042" || r["state"] != "sale" || r["amount_total"] != json.Number("1587") {
		t.Fatalf("record %#v", r)
	}
	p, _ := r["partner_id"].(map[string]any)
	if p["id"] != json.Number("10") || p["name"] != "Azure Interior" {
		t.Fatalf("many2one should be {id, name}, got %#v", r["partner_id"])
	}
	if _, ok := r["validity_date"]; ok {
		t.Fatal("an empty field (false) should be absent")
	}
	if r["commitment_date"] != "2026-11-20 12:00:00" {
		t.Fatalf("dates stay strings: %#v", r["commitment_date"])
	}
	if rep.Records[1]["name"] != "S00045" || rep.BaseURL != h.sim.URL {
		t.Fatalf("second record / base url: %v %s", rep.Records[1], rep.BaseURL)
	}

	// Booleans keep false; count, read, name_search, fields_get.
	rep = h.query(schemas.ERPQuery{Method: "read", Model: "res.partner", IDs: []int64{26}, Fields: []string{"name", "is_company", "parent_id", "vat"}})
	if len(rep.Records) != 1 || rep.Records[0]["is_company"] != false || rep.Records[0]["parent_id"].(map[string]any)["name"] != "Azure Interior" {
		t.Fatalf("read: %#v", rep.Records)
	}
	if _, ok := rep.Records[0]["vat"]; ok {
		t.Fatal("empty char field should be absent")
	}
	rep = h.query(schemas.ERPQuery{Method: "search_count", Model: "account.move",
		Domain: []any{[]any{"move_type", "=", "out_invoice"}, []any{"payment_state", "in", []any{"not_paid", "partial"}}, []any{"partner_id", "=", 10}}})
	if rep.Count == nil || *rep.Count != 2 {
		t.Fatalf("unpaid invoices of Azure Interior: %+v", rep)
	}
	rep = h.query(schemas.ERPQuery{Method: "name_search", Model: "res.users", Name: "mitch"})
	if len(rep.Records) != 1 || rep.Records[0]["id"] != json.Number("2") || rep.Records[0]["name"] != "Mitchell Admin" {
		t.Fatalf("name_search: %+v", rep.Records)
	}
	rep = h.query(schemas.ERPQuery{Method: "fields_get", Model: "stock.quant"})
	if f, _ := rep.Fields["quantity"].(map[string]any); f["type"] != "float" {
		t.Fatalf("fields_get: %v", rep.Fields)
	}
	if _, ok := rep.Fields["inventory_quantity"]; ok {
		t.Fatal("fields_get must hide fields outside the allow-list")
	}
	rep = h.query(schemas.ERPQuery{Method: "search_read", Model: "product.product", Domain: []any{[]any{"name", "=", "Desk Combination"}}, Fields: []string{"qty_available"}})
	if len(rep.Records) != 1 || rep.Records[0]["qty_available"] != json.Number("32") {
		t.Fatalf("stock: %+v", rep.Records)
	}
	// The limit is capped.
	rep = h.query(schemas.ERPQuery{Method: "search_read", Model: "res.partner", Fields: []string{"name"}, Limit: 100000})
	if rep.Error != "" || len(rep.Records) == 0 || len(rep.Records) > 80 {
		t.Fatalf("capped read: %d records, %s", len(rep.Records), rep.Error)
	}
}

func TestRefusedBeforeAnyOdooCall(t *testing.T) {
	h := start(t, nil, nil)
	cases := []schemas.ERPQuery{
		{Method: "search_read", Model: "hr.employee"},
		{Method: "search_read", Model: "ir.config_parameter", Fields: []string{"value"}},
		{Method: "search_read", Model: "res.partner", Domain: []any{"|", []any{"name", "=", "x"}}},
		{Method: "search_read", Model: "res.partner", Domain: []any{[]any{"name", "=", "x", "extra"}}},
		{Method: "search_read", Model: "res.partner", Domain: []any{[]any{"name", "child_of", 1}}},
		{Method: "search_read", Model: "res.partner", Domain: []any{[]any{"password", "=", "x"}}},
		{Method: "search_read", Model: "res.partner", Fields: []string{"name", "password"}},
		{Method: "search_count", Model: "res.partner", Domain: []any{"!"}},
		{Method: "search_read", Model: "res.partner", Order: "name; DROP TABLE res_partner"},
		{Method: "unlink", Model: "res.partner"},
		{Method: "read", Model: "res.partner"},
	}
	for _, q := range cases {
		rep := h.query(q)
		if rep.Kind != "refused" || rep.Error == "" {
			t.Errorf("%+v: want a refusal, got %+v", q, rep)
		}
	}
	// Not JSON at all.
	msg, err := h.qc.NC.Request(schemas.SubjectERPQuery, []byte("{nope"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var rep schemas.ERPReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil || rep.Kind != "refused" {
		t.Fatalf("bad JSON: %s", msg.Data)
	}
	if n := h.sim.Calls("*"); n != 0 {
		t.Fatalf("refused queries reached Odoo: %d object calls", n)
	}
	if n := h.sim.Calls("common.authenticate"); n != 0 {
		t.Fatalf("refused queries authenticated: %d", n)
	}
}

func TestBadCredentialsAccessDenied(t *testing.T) {
	h := start(t, func(c *Config) { c.Odoo.Password = "not-the-key" }, nil)
	if err := h.s.Ready(context.Background()); err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), "not-the-key") {
		t.Fatalf("readiness with a bad key: %v", err)
	}
	rep := h.query(schemas.ERPQuery{Method: "search_count", Model: "res.partner"})
	if rep.Kind != "access" || !strings.Contains(rep.Error, "credentials") || strings.Contains(rep.Error, "not-the-key") {
		t.Fatalf("want an access reply without the key, got %+v", rep)
	}
	if h.s.Breaker().State() != BreakerClosed {
		t.Fatal("bad credentials are not an outage")
	}
	_, err := h.s.odoo.SearchCount(context.Background(), "res.partner", nil)
	if !errors.Is(err, odoo.ErrAccessDenied) {
		t.Fatalf("want a typed access-denied error, got %v", err)
	}
}

func TestCacheHitThenInvalidatedByWrite(t *testing.T) {
	h := start(t, nil, nil)
	q := schemas.ERPQuery{Method: "search_read", Model: "crm.lead", Domain: []any{[]any{"id", "=", 2}}, Fields: []string{"name", "probability"}}
	first := h.query(q)
	if first.Cached || len(first.Records) != 1 || first.Records[0]["probability"] != json.Number("10") {
		t.Fatalf("first read: %+v", first)
	}
	calls := h.sim.Calls("crm.lead.search_read")
	second := h.query(q)
	if !second.Cached || h.sim.Calls("crm.lead.search_read") != calls {
		t.Fatalf("second read should be a cache hit without an XML-RPC call (cached=%v, calls %d→%d)", second.Cached, calls, h.sim.Calls("crm.lead.search_read"))
	}
	// Same query, fields in another order: same cache entry.
	q2 := q
	q2.Fields = []string{"probability", "name"}
	if !h.query(q2).Cached {
		t.Fatal("field order should not matter to the cache")
	}
	env := h.command(schemas.ERPCommand{Op: "write", Model: "crm.lead", IDs: []int64{2}, Values: map[string]any{"probability": 55}, ConfirmedBy: "U1"})
	if res := h.resultFor(env.ID); !res.OK {
		t.Fatalf("write failed: %+v", res)
	}
	third := h.query(q)
	if third.Cached || third.Records[0]["probability"] != json.Number("55") {
		t.Fatalf("after the write the read must go to Odoo and see it: %+v", third)
	}
}

func TestConfirmedCreateRedeliveredThreeTimesCreatesOnce(t *testing.T) {
	var deliveries atomic.Int32
	h := start(t, nil, func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, m *bus.Msg) error {
			err := next(ctx, m)
			deliveries.Add(1)
			if m.Delivery <= 3 {
				// The work is done but the ack is "lost": JetStream redelivers.
				return bus.RetryAfter(errors.New("simulated crash before ack"), 10*time.Millisecond)
			}
			return err
		}
	})
	env := h.command(schemas.ERPCommand{Op: "create", Model: "crm.lead", ConfirmedBy: "U123",
		Values: map[string]any{"name": "Acme - 5k", "expected_revenue": 5000, "user_id": map[string]any{"id": 2, "name": "Mitchell Admin"}}})
	res := h.resultFor(env.ID)
	bustest.Eventually(t, 10*time.Second, func() bool { return deliveries.Load() >= 4 }, "want 4 deliveries, got %d", deliveries.Load())
	if !res.OK || len(res.IDs) != 1 || res.ProposalID == "" || res.ProposalID != proposalOf(env) || res.CommandID != env.ID {
		t.Fatalf("result %+v", res)
	}
	if want := schemas.OdooRecordURL(h.sim.URL, "crm.lead", res.IDs[0]); res.URL != want {
		t.Fatalf("url %q want %q", res.URL, want)
	}
	if n := h.sim.Count("crm.lead", []any{"name", "=", "Acme - 5k"}); n != 1 {
		t.Fatalf("want exactly one lead, got %d", n)
	}
	if n := h.sim.Calls("crm.lead.create"); n != 1 {
		t.Fatalf("want one create call, got %d", n)
	}
	if rec := h.sim.Record("crm.lead", res.IDs[0]); rec["user_id"].([]any)[1] != "Mitchell Admin" {
		t.Fatalf("record reference not written: %v", rec["user_id"])
	}
	if n := len(distinctIDs(h.results())); n != 1 {
		t.Fatalf("want one distinct result message, got %d", n)
	}
	audits := distinctIDs(h.audits())
	if len(audits) != 1 {
		t.Fatalf("want one audit record, got %d", len(audits))
	}
	for _, env := range audits {
		a, _ := schemas.DecodeData[schemas.Audit](env)
		if a.Action != "erp_write" || a.Actor != "U123" || a.Model != "crm.lead" || a.Op != "create" || a.Outcome != "ok" || !strings.Contains(a.Detail, "expected_revenue") {
			t.Fatalf("audit %+v", a)
		}
	}
}

func TestUnansweredCreateIsReconciledNotRepeated(t *testing.T) {
	h := start(t, func(c *Config) { c.Odoo.Timeout = 300 * time.Millisecond }, nil)
	h.sim.LoseAnswers(time.Second) // Odoo creates, the answer never arrives in time
	env := h.command(schemas.ERPCommand{Op: "create", Model: "res.partner", ConfirmedBy: "U1", Values: map[string]any{"name": "Lost Answer Ltd", "email": "lost@example.com"}})
	bustest.Eventually(t, 10*time.Second, func() bool { return h.sim.Calls("res.partner.create") >= 1 }, "create never sent")
	h.sim.LoseAnswers(0)
	res := h.resultFor(env.ID)
	if !res.OK || len(res.IDs) != 1 {
		t.Fatalf("result %+v", res)
	}
	if n := h.sim.Count("res.partner", []any{"name", "=", "Lost Answer Ltd"}); n != 1 {
		t.Fatalf("want one partner, got %d", n)
	}
	if n := h.sim.Calls("res.partner.create"); n != 1 {
		t.Fatalf("the create must not be repeated, got %d calls", n)
	}
}

func TestStaleClaimIsReconciled(t *testing.T) {
	h := start(t, nil, nil)
	// A replica claimed the command, created the record and died before
	// recording it: the claim is pending and goes stale.
	cmd := schemas.ERPCommand{Op: "create", Model: "project.task", ConfirmedBy: "U1", Values: map[string]any{"name": "Crashed replica task", "project_id": 1}}
	c, err := erptest.Confirm(context.Background(), h.b.JetStream(), cmd, erptest.Conversation{Team: "T1", Channel: "C1", User: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	env := c.Env
	idem, err := h.b.Idempotency(context.Background(), "maria_erp", time.Hour, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := idem.Begin(context.Background(), proposalKey(c.Command.ProposalID)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.odoo.Create(context.Background(), "project.task", map[string]any{"name": "Crashed replica task", "project_id": int64(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.b.Publish(context.Background(), schemas.ERPCommandSubject(cmd.Model), env); err != nil {
		t.Fatal(err)
	}
	res := h.resultFor(env.ID)
	if !res.OK || h.sim.Count("project.task", []any{"name", "=", "Crashed replica task"}) != 1 || h.sim.Calls("project.task.create") != 1 {
		t.Fatalf("stale claim must reconcile, not create again: %+v, %d tasks", res, h.sim.Count("project.task", []any{"name", "=", "Crashed replica task"}))
	}
}

func TestCommandRefusalsAndOdooErrorsAreToldNotRetried(t *testing.T) {
	h := start(t, nil, nil)
	cases := []struct {
		cmd  schemas.ERPCommand
		kind string
		want string
	}{
		{schemas.ERPCommand{Op: "create", Model: "account.move", ConfirmedBy: "U1", Values: map[string]any{"name": "x"}}, "refused", "not open to changes"},
		{schemas.ERPCommand{Op: "write", Model: "res.partner", IDs: []int64{10}, ConfirmedBy: "U1", Values: map[string]any{"customer_rank": 99}}, "refused", "customer_rank"},
		{schemas.ERPCommand{Op: "write", Model: "crm.lead", ConfirmedBy: "U1", Values: map[string]any{"name": "x"}}, "refused", "ids"},
		{schemas.ERPCommand{Op: "create", Model: "crm.lead", ConfirmedBy: "U1", Values: map[string]any{"expected_revenue": 1}}, "validation", "mandatory field"},
		{schemas.ERPCommand{Op: "write", Model: "crm.lead", IDs: []int64{9999}, ConfirmedBy: "U1", Values: map[string]any{"name": "x"}}, "validation", "does not exist"},
		{schemas.ERPCommand{Op: "write", Model: "crm.lead", IDs: []int64{1}, ConfirmedBy: "U1", Values: map[string]any{"priority": "9"}}, "validation", "Wrong value"},
	}
	for _, c := range cases {
		env := h.command(c.cmd)
		res := h.resultFor(env.ID)
		if res.OK || res.Kind != c.kind || !strings.Contains(res.Error, c.want) {
			t.Errorf("%+v: want %s containing %q, got %+v", c.cmd, c.kind, c.want, res)
		}
	}
	h.sim.Deny("project.task")
	env := h.command(schemas.ERPCommand{Op: "write", Model: "project.task", IDs: []int64{1}, ConfirmedBy: "U1", Values: map[string]any{"priority": "1"}})
	if res := h.resultFor(env.ID); res.Kind != "access" {
		t.Errorf("access error: %+v", res)
	}
	time.Sleep(100 * time.Millisecond) // let any (wrong) redelivery happen before checking the DLQ
	if n := len(h.dlq()); n != 0 {
		t.Fatalf("refusals and Odoo's answers are results, not dead letters: %d", n)
	}
}

func TestOdooDownBreakerOpensThenRecovers(t *testing.T) {
	h := start(t, nil, nil)
	q := schemas.ERPQuery{Method: "search_count", Model: "res.partner", Domain: []any{[]any{"is_company", "=", true}}}
	h.sim.Down(true)
	for i := 0; i < 3; i++ {
		rep := h.query(q)
		if rep.Kind != "unavailable" || !strings.Contains(rep.Error, "502") {
			t.Fatalf("query %d while down: %+v", i, rep)
		}
	}
	if h.s.Breaker().State() != BreakerOpen || h.s.Ready(context.Background()) == nil {
		t.Fatalf("breaker should be open, is %s", h.s.Breaker().State())
	}
	calls := h.sim.Calls("*")
	rep := h.query(q)
	if rep.Kind != "unavailable" || !strings.Contains(rep.Error, "circuit open") || !strings.Contains(rep.Error, "502") {
		t.Fatalf("open breaker should fail fast with the reason: %+v", rep)
	}
	if h.sim.Calls("*") != calls {
		t.Fatal("an open breaker must not call Odoo")
	}
	h.sim.Down(false)
	bustest.Eventually(t, 5*time.Second, func() bool { return h.query(q).Count != nil }, "breaker never let a probe through")
	if h.s.Breaker().State() != BreakerClosed || h.s.Ready(context.Background()) != nil {
		t.Fatalf("breaker should be closed again, is %s", h.s.Breaker().State())
	}
}

func TestOdooDownCommandRetriesThenDeadLetters(t *testing.T) {
	h := start(t, func(c *Config) { c.BreakerThreshold = 100 }, nil)
	h.sim.Down(true)
	env := h.command(schemas.ERPCommand{Op: "write", Model: "crm.lead", IDs: []int64{1}, ConfirmedBy: "U1", Values: map[string]any{"probability": 70}})
	res := h.resultFor(env.ID) // told on the last delivery
	if res.OK || res.Kind != "unavailable" || !strings.Contains(res.Error, "not applied") {
		t.Fatalf("final result %+v", res)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return len(h.dlq()) == 1 }, "the command should be dead-lettered for a re-drive")
	if n := h.sim.Calls("crm.lead.write"); n != 4 {
		t.Fatalf("want 4 attempts (MaxDeliver), got %d", n)
	}
	if h.sim.Record("crm.lead", 1)["probability"] != 30.0 {
		t.Fatal("nothing should have changed")
	}
}

func TestJSON2Protocol(t *testing.T) {
	h := startOn(t, odoosim.New(t, odoosim.Version(19)), func(c *Config) { c.Protocol = "json2" }, nil)
	rep := h.query(schemas.ERPQuery{Method: "search_read", Model: "account.move", Domain: []any{[]any{"name", "=", "INV/2026/00007"}}, Fields: []string{"partner_id", "amount_residual", "payment_state"}})
	if len(rep.Records) != 1 || rep.Records[0]["payment_state"] != "not_paid" || rep.Records[0]["partner_id"].(map[string]any)["name"] != "Azure Interior" {
		t.Fatalf("json2 read: %+v", rep)
	}
	env := h.command(schemas.ERPCommand{Op: "create", Model: "res.partner", ConfirmedBy: "U1", Values: map[string]any{"name": "JSON Two Inc", "is_company": true}})
	if res := h.resultFor(env.ID); !res.OK || h.sim.Count("res.partner", []any{"name", "=", "JSON Two Inc"}) != 1 {
		t.Fatalf("json2 create: %+v", res)
	}
}

func proposalOf(env *schemas.Envelope) string {
	cmd, _ := schemas.DecodeData[schemas.ERPCommand](env)
	return cmd.ProposalID
}
