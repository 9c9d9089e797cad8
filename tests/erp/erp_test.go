// Package erp_test is the acceptance suite of the ERP processor (issue 6):
// the service configured from the environment as `maria run` does, over an
// embedded JetStream and the Odoo simulator, driven only through the bus
// contract (maria.erp.query, maria.erp.command.<model>, maria.erp.result.<model>).
package erp_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/erp"
	"github.com/mariahq/maria/processors/erp/erptest"
	"github.com/mariahq/maria/processors/erp/odoo"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/nats-io/nats.go"
)

type suite struct {
	t       *testing.T
	sim     *odoosim.Server
	b       *bus.Bus
	svc     *erp.Service
	qc      erp.QueryClient
	results func() []*nats.Msg
}

func setup(t *testing.T, extra map[string]string) *suite {
	t.Helper()
	return setupOn(t, odoosim.New(t), extra)
}

// setupOn is setup against a given simulator (another Odoo version); it
// returns once the service checked Odoo (ready, or saying why not).
func setupOn(t *testing.T, sim *odoosim.Server, extra map[string]string) *suite {
	t.Helper()
	vars := map[string]string{
		"ODOO_URL": sim.URL, "ODOO_DB": sim.DB, "ODOO_USERNAME": sim.User, "ODOO_PASSWORD": sim.Password,
		"MARIA_ODOO_TIMEOUT": "2s", "MARIA_ERP_CLAIM_STALE": "6s",
		"MARIA_ERP_BREAKER_THRESHOLD": "3", "MARIA_ERP_BREAKER_COOLDOWN": "300ms",
	}
	for k, v := range extra {
		vars[k] = v
	}
	env := config.NewEnvFrom(vars)
	cfg := erp.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	client, err := erp.NewOdooClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := bustest.New(t)
	s := &suite{t: t, sim: sim, b: b, svc: erp.New(cfg, client, bustest.Logger(t)),
		qc: erp.QueryClient{NC: bustest.Client(t, b, nil).Conn()}, results: bustest.Subscribe(t, b, schemas.SubjectERPResultAll)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.svc.Run(ctx, b) }()
	t.Cleanup(func() { cancel(); <-done })
	bustest.Eventually(t, 5*time.Second, func() bool {
		_, err := s.qc.Query(context.Background(), schemas.ERPQuery{Method: "fields_get", Model: "res.partner"})
		if errors.Is(err, erp.ErrNoQueryService) {
			return false
		}
		rerr := s.svc.Ready(context.Background())
		return rerr == nil || !strings.Contains(rerr.Error(), "waiting for Odoo")
	}, "the query service did not come up, or Odoo was not checked")
	sim.ResetCalls()
	return s
}

func (s *suite) query(q schemas.ERPQuery) *schemas.ERPReply {
	s.t.Helper()
	rep, err := s.qc.Query(context.Background(), q)
	if err != nil {
		s.t.Fatal(err)
	}
	return rep
}

// deliver publishes env on the command subject with the given Nats-Msg-Id,
// so the same command (same envelope id) can reach the consumer again, as a
// redelivery, a replay or a dead-letter re-drive would.
func (s *suite) deliver(env *schemas.Envelope, msgID string) {
	s.t.Helper()
	ctx := context.Background()
	var cmd schemas.ERPCommand
	_ = json.Unmarshal(env.Data, &cmd)
	msg, err := bus.EnvelopeMsg(ctx, schemas.ERPCommandSubject(cmd.Model), env)
	if err != nil {
		s.t.Fatal(err)
	}
	msg.Header.Set(schemas.HeaderMsgID, msgID)
	if _, err := s.b.JetStream().PublishMsg(ctx, msg); err != nil {
		s.t.Fatal(err)
	}
}

// confirmed returns cmd as ai publishes it after user's genuine Confirm
// click (proposal stored, click on MARIA_IN), ready to deliver.
func (s *suite) confirmed(cmd schemas.ERPCommand, user string) *schemas.Envelope {
	s.t.Helper()
	c, err := erptest.Confirm(context.Background(), s.b.JetStream(), cmd, erptest.Conversation{Team: "T1", Channel: "C1", User: user})
	if err != nil {
		s.t.Fatal(err)
	}
	return c.Env
}

func (s *suite) resultsOf(commandID string) []*schemas.ERPResult {
	var out []*schemas.ERPResult
	for _, m := range s.results() {
		env, err := schemas.Decode(m.Data)
		if err != nil || env.CausationID != commandID {
			continue
		}
		r, _ := schemas.DecodeData[schemas.ERPResult](env)
		out = append(out, r)
	}
	return out
}

func TestSearchReadWithDomain(t *testing.T) {
	s := setup(t, nil)
	rep := s.query(schemas.ERPQuery{Method: "search_read", Model: "account.move",
		Domain: []any{"&", []any{"partner_id.name", "=", "Azure Interior"}, "|", []any{"payment_state", "=", "not_paid"}, []any{"payment_state", "=", "partial"}},
		Fields: []string{"name", "partner_id", "amount_residual", "payment_state", "invoice_date_due", "ref"}, Order: "name"})
	if rep.Error != "" {
		t.Fatalf("%s: %s", rep.Kind, rep.Error)
	}
	var names []string
	for _, r := range rep.Records {
		names = append(names, r["name"].(string))
		if p := r["partner_id"].(map[string]any); p["name"] != "Azure Interior" || p["id"] != json.Number("10") {
			t.Fatalf("partner as {id, name}: %v", r["partner_id"])
		}
		if _, ok := r["ref"]; ok {
			t.Fatalf("empty ref should be absent: %v", r)
		}
	}
	if strings.Join(names, ",") != "INV/2026/00007,INV/2026/00008" {
		t.Fatalf("unpaid Azure Interior invoices: %v", names)
	}
	if rep.Records[0]["amount_residual"] != json.Number("1587") || rep.Records[1]["payment_state"] != "partial" {
		t.Fatalf("values: %v", rep.Records)
	}
	if rep.BaseURL != s.sim.URL {
		t.Fatalf("base url %q", rep.BaseURL)
	}
}

func TestOutsideAllowListAndMalformedDomainNeverReachOdoo(t *testing.T) {
	s := setup(t, map[string]string{"MARIA_ERP_ALLOW": "res.partner:name,email;sale.order:*"})
	for _, q := range []schemas.ERPQuery{
		{Method: "search_read", Model: "account.move"},
		{Method: "search_read", Model: "res.partner", Fields: []string{"phone"}},
		{Method: "search_read", Model: "res.partner", Domain: []any{"&", []any{"name", "=", "x"}}},
		{Method: "search_count", Model: "sale.order", Domain: []any{[]any{"name"}}},
		{Method: "search_count", Model: "sale.order", Domain: []any{map[string]any{"name": "x"}}},
	} {
		if rep := s.query(q); rep.Kind != "refused" {
			t.Errorf("%+v: want refused, got %+v", q, rep)
		}
	}
	if n := s.sim.Calls("*") + s.sim.Calls("common.authenticate"); n != 0 {
		t.Fatalf("refused queries made %d XML-RPC calls", n)
	}
	// "*" lets any field of sale.order through.
	if rep := s.query(schemas.ERPQuery{Method: "search_read", Model: "sale.order", Fields: []string{"note"}, Limit: 1}); rep.Error != "" {
		t.Fatalf("%+v", rep)
	}
}

func TestBadCredentialsAreAccessDenied(t *testing.T) {
	s := setup(t, map[string]string{"ODOO_PASSWORD": "wrong"})
	rep := s.query(schemas.ERPQuery{Method: "search_count", Model: "res.partner"})
	if rep.Kind != "access" || !strings.Contains(rep.Error, "credentials") {
		t.Fatalf("%+v", rep)
	}
	c, _ := odoo.NewXMLRPC(odoo.Config{URL: s.sim.URL, DB: s.sim.DB, Username: s.sim.User, Password: "wrong"})
	if _, err := c.Authenticate(context.Background()); !errors.Is(err, odoo.ErrAccessDenied) {
		t.Fatalf("want odoo.ErrAccessDenied, got %v", err)
	}
}

func TestConfirmedCreateDeliveredFourTimesCreatesOneRecord(t *testing.T) {
	s := setup(t, nil)
	env := s.confirmed(schemas.ERPCommand{Op: "create", Model: "crm.lead", Values: map[string]any{"name": "Acme", "expected_revenue": 5000, "user_id": 2}}, "U42")
	s.deliver(env, env.ID)
	bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 1 }, "no result")
	for i := 1; i <= 3; i++ { // redelivered three times
		s.deliver(env, env.ID+"-again-"+string(rune('0'+i)))
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 4 }, "every delivery should answer")
	var ids []int64
	for _, r := range s.resultsOf(env.ID) {
		if !r.OK || len(r.IDs) != 1 {
			t.Fatalf("result %+v", r)
		}
		ids = append(ids, r.IDs[0])
	}
	if ids[0] != ids[1] || ids[0] != ids[2] || ids[0] != ids[3] {
		t.Fatalf("all deliveries must report the same record: %v", ids)
	}
	if n := s.sim.Count("crm.lead", []any{"name", "=", "Acme"}); n != 1 {
		t.Fatalf("want one lead, got %d", n)
	}
	if n := s.sim.Calls("crm.lead.create"); n != 1 {
		t.Fatalf("want one create call, got %d", n)
	}
}

func TestCacheHitThenInvalidatedByWrite(t *testing.T) {
	s := setup(t, nil)
	q := schemas.ERPQuery{Method: "read", Model: "res.partner", IDs: []int64{11}, Fields: []string{"name", "phone"}}
	if rep := s.query(q); rep.Cached || rep.Records[0]["phone"] != "(603)-996-3829" {
		t.Fatalf("first %+v", rep)
	}
	before := s.sim.Calls("*")
	if rep := s.query(q); !rep.Cached || s.sim.Calls("*") != before {
		t.Fatalf("repeat should be served from the cache without an XML-RPC call: %+v", rep)
	}
	env := s.confirmed(schemas.ERPCommand{Op: "write", Model: "res.partner", IDs: []int64{11}, Values: map[string]any{"phone": "+1 555 0100"}}, "U1")
	s.deliver(env, env.ID)
	bustest.Eventually(t, 10*time.Second, func() bool { return len(s.resultsOf(env.ID)) == 1 }, "no result")
	if rep := s.query(q); rep.Cached || rep.Records[0]["phone"] != "+1 555 0100" {
		t.Fatalf("after the write: %+v", rep)
	}
}

func TestOdooDownBreakerOpensThenRecovers(t *testing.T) {
	s := setup(t, nil)
	q := schemas.ERPQuery{Method: "search_count", Model: "crm.lead"}
	s.sim.Down(true)
	for i := 0; i < 3; i++ {
		if rep := s.query(q); rep.Kind != "unavailable" {
			t.Fatalf("%+v", rep)
		}
	}
	calls := s.sim.Calls("*")
	rep := s.query(q)
	if rep.Kind != "unavailable" || !strings.Contains(rep.Error, "circuit open") || s.sim.Calls("*") != calls {
		t.Fatalf("open breaker should answer at once without calling Odoo: %+v", rep)
	}
	if err := s.svc.Ready(context.Background()); err == nil {
		t.Fatal("readiness should report the open circuit")
	}
	s.sim.Down(false)
	bustest.Eventually(t, 5*time.Second, func() bool { return s.query(q).Count != nil }, "did not recover")
	if s.svc.Breaker().State() != erp.BreakerClosed {
		t.Fatalf("breaker %s", s.svc.Breaker().State())
	}
}
