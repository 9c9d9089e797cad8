package erp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// Every answered query leaves one audit.v1 record on maria.audit.erp_query
// carrying the asking turn's correlation id: the query as asked and what
// came back (how many records, never their values), refusals included.
func TestAnsweredQueriesAreAuditedWithTheirTurn(t *testing.T) {
	h := start(t, nil, nil)
	// As a processor handling message msg-audit-1 of the turn asks.
	ctx := telemetry.WithCause(telemetry.WithCorrelation(context.Background(), "turn-audit-1"), "msg-audit-1")
	rep, err := h.qc.Query(ctx, schemas.ERPQuery{Method: MethodSearchRead, Model: "res.partner", Fields: []string{"name"}, Limit: 2})
	if err != nil || rep.Error != "" || len(rep.Records) == 0 {
		t.Fatalf("query: %+v %v", rep, err)
	}
	if rep, err = h.qc.Query(ctx, schemas.ERPQuery{Method: MethodSearchRead, Model: "hr.payslip"}); err != nil || rep.Kind != "refused" {
		t.Fatalf("refused query: %+v %v", rep, err)
	}
	var mine []*nats.Msg
	bustest.Eventually(t, 10*time.Second, func() bool {
		mine = nil
		for _, m := range h.queryAudits() {
			if m.Header.Get(schemas.HeaderCorrelationID) == "turn-audit-1" {
				mine = append(mine, m)
			}
		}
		return len(mine) == 2
	}, "two audited queries of the turn")
	// By model: each record is published after its reply, asynchronously,
	// so the second query's may be stored first.
	want := map[string]struct{ outcome, got string }{"res.partner": {"ok", "2 record(s)"}, "hr.payslip": {"refused", "not in Maria's allow-list"}}
	for i, m := range mine {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		a, err := schemas.DecodeData[schemas.Audit](env)
		if err != nil {
			t.Fatal(err)
		}
		if env.CorrelationID != "turn-audit-1" || env.CausationID != "msg-audit-1" || env.Source != "erp" || env.Type != schemas.TypeAudit {
			t.Errorf("audit %d envelope %+v", i, env)
		}
		w, known := want[a.Model]
		delete(want, a.Model)
		if !known || a.Action != AuditQueryKind || a.Op != MethodSearchRead || a.Outcome != w.outcome ||
			a.Actor != h.sim.User || !strings.Contains(a.Detail, w.got) {
			t.Errorf("audit %d %+v", i, a)
		}
		if strings.Contains(string(m.Data), "Azure") {
			t.Errorf("the audit holds record values: %s", m.Data)
		}
	}
}
