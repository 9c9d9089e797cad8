package ingress

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The server span of a Slack request is the root of the turn's trace: the
// publish to maria.in is its child and the stored message carries its trace.
func TestHTTPServerSpanParentsThePublish(t *testing.T) {
	exp, _ := bustest.Tracing(t)
	base, b := startIngress(t, testConfig())
	mention := readTestdata(t, "app_mention.json")
	if status, body := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention}); status != 200 {
		t.Fatalf("status %d %s", status, body)
	}
	if status, _ := do(t, base, post{path: schemas.SlackPathEvents, contentType: ctJSON, body: mention, secret: "not-the-secret"}); status != 401 {
		t.Fatalf("bad signature: status %d", status)
	}

	// The handler ends its span after writing the answer: poll for it.
	var servers tracetest.SpanStubs
	bustest.Eventually(t, 5*time.Second, func() bool {
		servers = bustest.SpansNamed(exp.GetSpans(), "slack "+EndpointEvents)
		return len(servers) == 2
	}, "two ingress server spans")
	var ok, refused tracetest.SpanStub
	for _, s := range servers {
		switch bustest.Attr(s, "maria.outcome").AsString() {
		case OutcomeOK:
			ok = s
		case OutcomeBadSignature:
			refused = s
		}
	}
	if ok.Name == "" || refused.Name == "" {
		t.Fatalf("want one ok and one bad_signature span, got %+v", servers)
	}
	if ok.SpanKind != trace.SpanKindServer || ok.Parent.IsValid() {
		t.Errorf("server span kind %v parent %v: want a root server span", ok.SpanKind, ok.Parent)
	}
	for k, want := range map[string]string{"maria.slack.endpoint": EndpointEvents, "maria.slack.event": "event_callback/app_mention",
		"maria.slack.team": "T123ABC456", "http.request.method": "POST", "http.route": schemas.SlackPathEvents} {
		if got := bustest.Attr(ok, k).AsString(); got != want {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
	if got := bustest.Attr(ok, "http.response.status_code").AsInt64(); got != 200 {
		t.Errorf("status code attribute %d", got)
	}
	if got := bustest.Attr(refused, "http.response.status_code").AsInt64(); got != 401 {
		t.Errorf("refused request status code attribute %d", got)
	}
	if refused.Status.Code == codes.Error {
		t.Errorf("a refused request is answered, not a failure: %v", refused.Status)
	}

	pubs := bustest.SpansNamed(exp.GetSpans(), "publish maria.in.mention")
	if len(pubs) != 1 {
		t.Fatalf("publish spans %d, want 1", len(pubs))
	}
	if pubs[0].Parent.SpanID() != ok.SpanContext.SpanID() || pubs[0].SpanContext.TraceID() != ok.SpanContext.TraceID() {
		t.Errorf("publish span parent %s/%s, want the server span %s/%s", pubs[0].Parent.TraceID(), pubs[0].Parent.SpanID(),
			ok.SpanContext.TraceID(), ok.SpanContext.SpanID())
	}
	st, err := b.JetStream().Stream(context.Background(), schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetLastMsgForSubject(context.Background(), "maria.in.mention.T123ABC456.C123ABC456")
	if err != nil {
		t.Fatal(err)
	}
	if tp := raw.Header.Get(schemas.HeaderTraceparent); !strings.Contains(tp, ok.SpanContext.TraceID().String()) {
		t.Errorf("stored traceparent %q is not in the server span's trace %s", tp, ok.SpanContext.TraceID())
	}

	// Neither the signing secret, the verification token nor message text
	// is recorded.
	for _, s := range exp.GetSpans() {
		for _, kv := range s.Attributes {
			v := kv.Value.String()
			for _, bad := range []string{testSecret, "ZZZZZZWSxiZZZ2yIvs3peJ", "hour of the pearl"} {
				if strings.Contains(v, bad) {
					t.Errorf("span %s attribute %s carries %q", s.Name, kv.Key, bad)
				}
			}
		}
	}
}
