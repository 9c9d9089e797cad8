package telemetry_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

func TestTracingFromEnv(t *testing.T) {
	cases := []struct {
		env      map[string]string
		enabled  bool
		protocol string
		err      string
	}{
		{env: nil},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x"}},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, enabled: true, protocol: "http/protobuf"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, enabled: true, protocol: "http/protobuf"},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, enabled: true, protocol: "grpc"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, enabled: true, protocol: "grpc"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: "OTEL_TRACES_EXPORTER"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, err: "OTEL_EXPORTER_OTLP_PROTOCOL"},
	}
	for _, c := range cases {
		s, err := telemetry.TracingFromEnv(func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: error %v, want one naming %s", c.env, err, c.err)
			}
			continue
		}
		if err != nil || s.Enabled != c.enabled || s.Protocol != c.protocol {
			t.Errorf("%v: got %+v, %v; want enabled=%v protocol=%q", c.env, s, err, c.enabled, c.protocol)
		}
	}
}

// otlpHTTPCollector records what an OTLP/HTTP exporter posts.
type otlpHTTPCollector struct {
	mu     sync.Mutex
	bodies [][]byte
	paths  []string
}

func (c *otlpHTTPCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, body)
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (c *otlpHTTPCollector) contains(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bodies {
		if strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// SetupTracing with an OTLP/HTTP endpoint exports the bus' spans there, with
// the service name, and the shutdown flushes them and turns tracing off.
func TestSetupTracingExportsOTLPHTTP(t *testing.T) {
	col := &otlpHTTPCollector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
	shutdown, err := telemetry.SetupTracing(context.Background(), "maria-otlp-http-test")
	if err != nil {
		t.Fatal(err)
	}
	if !telemetry.TracingEnabled() {
		t.Fatal("tracing not enabled with an endpoint")
	}
	_, span := telemetry.StartSpan(context.Background(), "slack chat.postMessage")
	telemetry.EndSpan(span, nil)
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if telemetry.TracingEnabled() {
		t.Fatal("tracing still on after shutdown")
	}
	if !col.contains("slack chat.postMessage") || !col.contains("maria-otlp-http-test") {
		t.Fatalf("collector did not receive the span with the service name (paths %v)", col.paths)
	}
	if col.paths[0] != "/v1/traces" {
		t.Fatalf("posted to %s, want /v1/traces", col.paths[0])
	}
}

type grpcCollector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (g *grpcCollector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				g.names = append(g.names, s.Name)
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func TestSetupTracingExportsOTLPGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	col := &grpcCollector{}
	collectortrace.RegisterTraceServiceServer(gs, col)
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+ln.Addr().String())
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
	shutdown, err := telemetry.SetupTracing(context.Background(), "maria-otlp-grpc-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := telemetry.StartSpan(context.Background(), "odoo execute_kw")
	if !span.IsRecording() || telemetry.TraceID(ctx) == "" {
		t.Fatal("StartSpan did not record with tracing on")
	}
	telemetry.EndSpan(span, nil)
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.names) != 1 || col.names[0] != "odoo execute_kw" {
		t.Fatalf("collector got %v", col.names)
	}
}

func TestSetupTracingRejectsUnknownExporter(t *testing.T) {
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "jaeger")
	if _, err := telemetry.SetupTracing(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Fatalf("err = %v", err)
	}
	if telemetry.TracingEnabled() {
		t.Fatal("tracing enabled after a configuration error")
	}
}

func TestServerSpanIsChildOfTheRequester(t *testing.T) {
	exp, tp := bustest.Tracing(t)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "requester")
	h := telemetry.RequestHeaders(telemetry.WithCause(telemetry.WithCorrelation(ctx, "corr-1"), "msg-1"))
	parent.End()
	if h.Get(schemas.HeaderCorrelationID) != "corr-1" || h.Get(schemas.HeaderCausationID) != "msg-1" {
		t.Fatalf("request headers %v: want the correlation and the causing message", h)
	}

	sctx := telemetry.RequestContext(context.Background(), h)
	sctx, span := telemetry.StartServerSpan(sctx, "erp query", attribute.String("maria.erp.kind", "search"))
	if got := telemetry.TraceID(sctx); got != parent.SpanContext().TraceID().String() {
		t.Fatalf("server span trace id %q, want the requester's %s", got, parent.SpanContext().TraceID())
	}
	if telemetry.Correlation(sctx) != "corr-1" {
		t.Fatalf("correlation id lost: %q", telemetry.Correlation(sctx))
	}
	telemetry.EndSpan(span, errors.New("boom"))

	found := bustest.SpansNamed(exp.GetSpans(), "erp query")
	if len(found) != 1 {
		t.Fatalf("%d server spans in %v", len(found), exp.GetSpans())
	}
	s := found[0]
	if s.SpanKind != trace.SpanKindServer {
		t.Errorf("kind %v, want server", s.SpanKind)
	}
	if s.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("parent %s, want the requester's span %s", s.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	if s.Status.Code.String() != "Error" {
		t.Errorf("status %v, want Error", s.Status)
	}
	if v, _ := bustest.SpanAttr(s, "maria.erp.kind"); v.AsString() != "search" {
		t.Errorf("attribute maria.erp.kind = %q", v.AsString())
	}
}

func TestServerSpanOffIsFree(t *testing.T) {
	telemetry.SetTracerProvider(nil)
	ctx := context.Background()
	got, span := telemetry.StartServerSpan(ctx, "slack events")
	if got != ctx || span.IsRecording() {
		t.Fatal("with tracing off StartServerSpan must return ctx unchanged and a non-recording span")
	}
	telemetry.EndSpan(span, nil)
}
