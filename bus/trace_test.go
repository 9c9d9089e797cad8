package bus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func traceIDOf(t *testing.T, h nats.Header) string {
	t.Helper()
	tp := h.Get(schemas.HeaderTraceparent)
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		t.Fatalf("bad traceparent %q in %v", tp, h)
	}
	return parts[1]
}

func spanNamed(spans tracetest.SpanStubs, name string) (tracetest.SpanStub, bool) {
	for _, s := range spans {
		if s.Name == name {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// relay is a processor that forwards every inbound message to maria.out,
// like the AI answering a question.
func relay(name string) bus.Processor {
	return bus.Processor{Name: name, Stream: schemas.StreamIn, Subjects: []string{schemas.InKindFilter(schemas.KindMessage)},
		Handle: func(ctx context.Context, m *bus.Msg) error {
			// An external call inside the handler: child of the process span.
			_, span := telemetry.StartSpan(ctx, "fake external.call", attribute.String("maria.test", "1"))
			telemetry.EndSpan(span, nil)
			_, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "answer", schemas.TypeOutPost, schemas.OutPost{Text: "hi"})
			return err
		}}
}

func runProcessor(t *testing.T, b *bus.Bus, p bus.Processor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, b, p) }()
	t.Cleanup(func() { cancel(); <-done })
}

func TestTraceCrossesProcessorHop(t *testing.T) {
	exp, tp := bustest.Tracing(t)
	b := bustest.New(t)
	out := bustest.Subscribe(t, b, schemas.SubjectOutAll)
	runProcessor(t, b, relay("relay"))

	// The ingress side: a request span, then a publish under it.
	ctx, root := tp.Tracer("test-ingress").Start(context.Background(), "ingress POST /slack/events")
	env := envelope(t, "Ev-trace-1", "hello")
	if _, err := b.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
		t.Fatal(err)
	}
	root.End()
	want := root.SpanContext().TraceID().String()

	bustest.Eventually(t, 10*time.Second, func() bool { return len(out()) == 1 }, "the child on maria.out")
	child := out()[0]
	if got := traceIDOf(t, child.Header); got != want {
		t.Fatalf("child trace id %s, want the ingress trace %s", got, want)
	}

	// The process span ends after the ack, which happens after the child is published.
	bustest.Eventually(t, 5*time.Second, func() bool {
		_, ok := spanNamed(exp.GetSpans(), "relay process")
		return ok
	}, "relay process span")
	spans := exp.GetSpans()
	pubIn, ok := spanNamed(spans, "publish maria.in.message")
	if !ok {
		t.Fatalf("no producer span for maria.in.message in %v", names(spans))
	}
	proc, _ := spanNamed(spans, "relay process")
	pubOut, ok := spanNamed(spans, "publish maria.out")
	if !ok {
		t.Fatalf("no producer span for maria.out in %v", names(spans))
	}
	call, ok := spanNamed(spans, "fake external.call")
	if !ok {
		t.Fatalf("no external call span in %v", names(spans))
	}
	for _, s := range []tracetest.SpanStub{pubIn, proc, pubOut, call} {
		if s.SpanContext.TraceID().String() != want {
			t.Errorf("span %q in trace %s, want %s", s.Name, s.SpanContext.TraceID(), want)
		}
	}
	if pubIn.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Errorf("publish span's parent is not the ingress span")
	}
	if proc.Parent.SpanID() != pubIn.SpanContext.SpanID() || !proc.Parent.IsRemote() {
		t.Errorf("process span's parent %v, want the remote publish span %v", proc.Parent.SpanID(), pubIn.SpanContext.SpanID())
	}
	if pubOut.Parent.SpanID() != proc.SpanContext.SpanID() || call.Parent.SpanID() != proc.SpanContext.SpanID() {
		t.Errorf("child publish and external call must be children of the process span")
	}
	if proc.SpanKind != trace.SpanKindConsumer || pubIn.SpanKind != trace.SpanKindProducer || call.SpanKind != trace.SpanKindClient {
		t.Errorf("span kinds: process %v, publish %v, call %v", proc.SpanKind, pubIn.SpanKind, call.SpanKind)
	}
	for key, want := range map[string]string{
		"messaging.system":           "nats",
		"messaging.destination.name": "maria.in.message.T1.C1",
		"maria.correlation_id":       env.CorrelationID,
		"maria.outcome":              "ack",
	} {
		if v, ok := bustest.SpanAttr(proc, key); !ok || v.AsString() != want {
			t.Errorf("process span %s = %v, want %q", key, v.String(), want)
		}
	}
	if v, ok := bustest.SpanAttr(proc, "messaging.nats.delivery_count"); !ok || v.AsInt64() != 1 {
		t.Errorf("delivery count attribute = %v", v.String())
	}
	// The child's body still carries the correlation id: logs and traces join.
	cenv, err := schemas.Decode(child.Data)
	if err != nil || cenv.CorrelationID != env.CorrelationID {
		t.Fatalf("child correlation %v, %v", cenv, err)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

func TestProcessSpanRecordsFailureAndDeadLetter(t *testing.T) {
	exp, _ := bustest.Tracing(t)
	b := bustest.New(t)
	runProcessor(t, b, bus.Processor{Name: "broken", Stream: schemas.StreamIn, Subjects: []string{schemas.InKindFilter(schemas.KindMessage)},
		Handle: func(context.Context, *bus.Msg) error { return bus.Permanent(errors.New("cannot parse")) }})
	publish(t, b, "Ev-trace-dl", "x")
	bustest.Eventually(t, 10*time.Second, func() bool {
		_, ok := spanNamed(exp.GetSpans(), "broken process")
		return ok
	}, "process span")
	s, _ := spanNamed(exp.GetSpans(), "broken process")
	if v, _ := bustest.SpanAttr(s, "maria.outcome"); v.AsString() != "dead_letter" {
		t.Errorf("outcome %q, want dead_letter", v.AsString())
	}
	if s.Status.Code.String() != "Error" || !strings.Contains(s.Status.Description, "cannot parse") {
		t.Errorf("status %v", s.Status)
	}
}

// With tracing off (the default) the bus records nothing and adds no
// traceparent of its own, but passes an incoming one through unchanged, so
// a traced upstream keeps its trace across an untraced Maria.
func TestTracingOffByDefault(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"} {
		t.Setenv(k, "")
	}
	before := otel.GetTracerProvider()
	shutdown, err := telemetry.SetupTracing(context.Background(), "maria-test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	if telemetry.TracingEnabled() {
		t.Fatal("tracing enabled without any OTEL exporter configured")
	}
	if otel.GetTracerProvider() != before {
		t.Fatal("SetupTracing replaced the global provider while off")
	}
	ctx, span := telemetry.StartSpan(context.Background(), "slack chat.postMessage")
	if span.IsRecording() || span.SpanContext().IsValid() || telemetry.TraceID(ctx) != "" {
		t.Fatal("StartSpan recorded a span while tracing is off")
	}
	telemetry.EndSpan(span, errors.New("ignored"))

	b := bustest.New(t)
	out := bustest.Subscribe(t, b, schemas.SubjectOutAll)
	in := bustest.Subscribe(t, b, schemas.SubjectInAll)
	runProcessor(t, b, relay("relay-off"))

	publish(t, b, "Ev-untraced", "hello") // no trace in ctx
	upstream := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx = telemetry.WithTrace(context.Background(), telemetry.TraceContext{Traceparent: upstream})
	if _, err := b.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), envelope(t, "Ev-upstream", "hello")); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return len(out()) == 2 }, "two children")
	for _, m := range in() {
		id := m.Header.Get(schemas.HeaderMsgID)
		tp := m.Header.Get(schemas.HeaderTraceparent)
		if id == "Ev-untraced" && tp != "" {
			t.Errorf("untraced publish got traceparent %q", tp)
		}
		if id == "Ev-upstream" && tp != upstream {
			t.Errorf("upstream traceparent changed to %q", tp)
		}
	}
	var passed int
	for _, m := range out() {
		if tp := m.Header.Get(schemas.HeaderTraceparent); tp == "" {
			continue
		} else if traceIDOf(t, m.Header) == "4bf92f3577b34da6a3ce929d0e0e4736" {
			passed++
		} else {
			t.Errorf("unexpected traceparent %q", tp)
		}
	}
	if passed != 1 {
		t.Errorf("%d children carry the upstream trace, want 1", passed)
	}
}
