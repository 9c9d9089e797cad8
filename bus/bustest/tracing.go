package bustest

import (
	"context"
	"testing"

	"github.com/mariahq/maria/bus/telemetry"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Tracing turns bus tracing on with a synchronous in-memory exporter for
// the rest of the test; the provider is global, so tests using it must not
// run in parallel.
func Tracing(t testing.TB) (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	telemetry.SetTracerProvider(tp)
	t.Cleanup(func() { telemetry.SetTracerProvider(nil); _ = tp.Shutdown(context.Background()) })
	return exp, tp
}

// SpanAttr returns a span's attribute and whether it is set.
func SpanAttr(s tracetest.SpanStub, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// Attr returns a span's attribute, the zero Value when it is not set.
func Attr(s tracetest.SpanStub, key string) attribute.Value {
	v, _ := SpanAttr(s, key)
	return v
}

// SpansNamed returns the spans with that name, in export order.
func SpansNamed(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}
