package storage_test

import (
	"context"
	"testing"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/processors/storage"
	"github.com/mariahq/maria/schemas"
)

// A history query is a server span of the turn that asked: child of the
// caller's span, in the caller's trace.
func TestHistoryQueryServerSpanJoinsTheCallersTrace(t *testing.T) {
	h := start(t, nil)
	exp, tp := bustest.Tracing(t)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "ai process")
	if _, err := storage.QueryHistory(telemetry.WithCorrelation(ctx, "corr-h"), h.b.Conn(), schemas.HistoryQuery{Channel: "C1", ThreadTS: "1.0"}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	served := bustest.SpansNamed(exp.GetSpans(), "storage serve history")
	if len(served) != 1 {
		t.Fatalf("%d history server spans, want 1", len(served))
	}
	s := served[0]
	if s.SpanContext.TraceID() != parent.SpanContext().TraceID() || s.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("history span not under the caller's span: trace %s parent %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
}
