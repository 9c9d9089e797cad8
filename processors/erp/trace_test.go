package erp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A query's server span is the child of the requester's span, and each
// Odoo call a client span under it with the model, method, outcome and
// fault kind; the Odoo password is never recorded.
func TestQueryAndOdooSpans(t *testing.T) {
	h := start(t, func(c *Config) { c.CacheTTL = 0 }, nil)
	exp, tp := bustest.Tracing(t)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "ai erp query")
	rep, err := h.qc.Query(telemetry.WithCorrelation(ctx, "corr-1"), schemas.ERPQuery{Method: "search_count", Model: "res.partner"})
	if err != nil || rep.Count == nil {
		t.Fatalf("query: %+v %v", rep, err)
	}
	parent.End()

	var server tracetest.SpanStub
	var calls tracetest.SpanStubs
	bustest.Eventually(t, 5*time.Second, func() bool {
		calls = nil
		for _, s := range exp.GetSpans() {
			switch {
			case s.Name == "erp serve query" && s.SpanContext.TraceID() == parent.SpanContext().TraceID():
				server = s
			case strings.HasPrefix(s.Name, "odoo ") && s.SpanContext.TraceID() == parent.SpanContext().TraceID():
				calls = append(calls, s)
			}
		}
		return server.Name != "" && len(calls) > 0
	}, "no server span with odoo calls in %d spans", len(exp.GetSpans()))

	if server.SpanKind != trace.SpanKindServer || server.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("server span kind %v parent %s, want a server child of the requester %s", server.SpanKind, server.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	if bustest.Attr(server, "maria.erp.model").AsString() != "res.partner" || bustest.Attr(server, "maria.erp.method").AsString() != "search_count" ||
		bustest.Attr(server, "maria.erp.kind").AsString() != "ok" {
		t.Errorf("server span attributes %v", server.Attributes)
	}
	var count tracetest.SpanStub
	for _, c := range calls {
		if c.Parent.SpanID() != server.SpanContext.SpanID() || c.SpanKind != trace.SpanKindClient {
			t.Errorf("%s: parent %s kind %v, want a client child of the server span", c.Name, c.Parent.SpanID(), c.SpanKind)
		}
		if c.Name == "odoo search_count" {
			count = c
		}
	}
	if bustest.Attr(count, "maria.odoo.model").AsString() != "res.partner" || bustest.Attr(count, "rpc.method").AsString() != "search_count" ||
		bustest.Attr(count, "maria.outcome").AsString() != "ok" {
		t.Errorf("odoo search_count span %+v", count.Attributes)
	}

	// A fault: its kind is recorded, not Odoo's message nor the password.
	all := exp.GetSpans()
	exp.Reset()
	if _, err := h.s.odoo.SearchCount(ctx, "no.such.model", nil); err == nil {
		t.Fatal("query of an unknown model succeeded")
	}
	var fault tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == "odoo search_count" {
			fault = s
		}
	}
	if fault.Status.Code != codes.Error || bustest.Attr(fault, "maria.odoo.fault_kind").AsString() == "" {
		t.Errorf("failed call span: status %v attributes %v", fault.Status, fault.Attributes)
	}

	for _, s := range append(all, exp.GetSpans()...) {
		text := s.Status.Description
		for _, kv := range s.Attributes {
			text += " " + kv.Value.String()
		}
		if strings.Contains(text, h.sim.Password) {
			t.Errorf("span %s records the Odoo password", s.Name)
		}
	}
}
