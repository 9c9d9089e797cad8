package storage

import (
	"context"
	"errors"
	"testing"

	"github.com/mariahq/maria/bus/bustest"

	"github.com/mariahq/maria/processors/storage/store"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Each storage operation is a client span named after the service it
// talks to, under the caller's span; "not found" is an answer, not an error.
func TestStorageOperationSpans(t *testing.T) {
	exp, tp := bustest.Tracing(t)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "storage-files process")
	for _, c := range []struct {
		backend, op string
		err         error
	}{
		{store.BackendAWS, "put_object", nil},
		{store.BackendAWS, "get_file", store.ErrNotFound},
		{store.BackendNATS, "stat_object", nil},
		{store.BackendNATS, "claim", errors.New("kv down")},
	} {
		octx, done := timed(ctx, c.backend, c.op, attribute.String("maria.slack.file_id", "F1"))
		if trace.SpanContextFromContext(octx).SpanID() == parent.SpanContext().SpanID() {
			t.Errorf("%s: the operation does not run under its own span", c.op)
		}
		done(c.err)
	}
	parent.End()

	want := map[string]struct {
		outcome string
		failed  bool
	}{
		"s3 put_object": {"ok", false}, "dynamodb get_file": {"not_found", false},
		"nats.objectstore stat_object": {"ok", false}, "nats.kv claim": {"error", true},
	}
	got := 0
	for _, s := range exp.GetSpans() {
		w, ok := want[s.Name]
		if !ok {
			continue
		}
		got++
		attrs := map[string]string{}
		for _, kv := range s.Attributes {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		if s.Parent.SpanID() != parent.SpanContext().SpanID() || s.SpanKind != trace.SpanKindClient {
			t.Errorf("%s: parent %s kind %v", s.Name, s.Parent.SpanID(), s.SpanKind)
		}
		if attrs["maria.outcome"] != w.outcome || attrs["maria.slack.file_id"] != "F1" || (s.Status.Code == codes.Error) != w.failed {
			t.Errorf("%s: attributes %v status %v", s.Name, attrs, s.Status)
		}
	}
	if got != len(want) {
		t.Fatalf("%d of %d spans recorded", got, len(want))
	}
}
