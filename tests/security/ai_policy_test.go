package security

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/nats-io/nats.go"
)

// aiPolicy is the real AI processor on an embedded NATS, answering through
// the OpenAI simulator's rule brain — which, like a manipulated model, calls
// ERP tools whether or not it was offered them — with the ERP enabled for
// reads in C0READ and C0BOTH and for writes in C0BOTH only.
type aiPolicy struct {
	t       *testing.T
	b       *bus.Bus
	sim     *openaisim.Sim
	queries atomic.Int32
	out     func() []*nats.Msg
	erp     func() []*nats.Msg
}

func startAIPolicy(t *testing.T) *aiPolicy {
	t.Helper()
	w := &aiPolicy{t: t, b: bustest.New(t)}
	w.sim = openaisim.New(func(r *openaisim.Request) openaisim.Response {
		if q := r.Messages[len(r.Messages)-1].Text(); strings.Contains(q, "announce") {
			return openaisim.Text("Heads up <!channel>, <!here> and <!subteam^S0SALES|@sales>: S00042 shipped, details at <https://evil.example/login|Odoo>.")
		}
		return openaisim.Rules()(r)
	})
	w.out = bustest.Subscribe(t, w.b, schemas.SubjectOutAll)
	w.erp = bustest.Subscribe(t, w.b, "maria.erp.>") // queries, commands: nothing may leave for a refused user
	sub, err := w.b.Conn().Subscribe(schemas.SubjectERPQuery, func(m *nats.Msg) {
		w.queries.Add(1)
		var q schemas.ERPQuery
		_ = json.Unmarshal(m.Data, &q)
		rep := schemas.ERPReply{BaseURL: "http://odoo.test", Records: []map[string]any{}}
		switch q.Model {
		case "sale.order":
			rep.Records = []map[string]any{{"id": 42, "name": "S00042", "partner_id": []any{14, "Azure Interior"}, "state": "sale", "amount_total": 1799.0}}
		case "res.users":
			rep.Records = []map[string]any{{"id": 6, "name": "Marc Mitchell"}}
		}
		raw, _ := json.Marshal(rep)
		_ = m.Respond(raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	env := config.NewEnvFrom(map[string]string{
		"OPENAI_BASE_URL":          openaisim.Start(t, w.sim),
		"OPENAI_API_KEY":           "sk-test-not-a-secret",
		"MARIA_AI_TIMEOUT":         "5s",
		"MARIA_ERP_READ_CHANNELS":  "C0READ,C0BOTH,dm",
		"MARIA_ERP_WRITE_CHANNELS": "C0BOTH,dm",
	})
	cfg := ai.LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := ai.New(ctx, w.b, cfg, ai.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = p.Service().Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// ask mentions Maria as a user of kind in channel and returns the answer
// streamed into the new thread once it is finished.
func (w *aiPolicy) ask(id, kind, channel, question string) string {
	w.t.Helper()
	ts := "1700000000." + id
	e, err := schemas.New("Ev-"+id, schemas.TypeSlackMention, "ingress", schemas.SlackMessage{TS: ts, ChannelType: "channel", Text: "<@UMARIA> " + question})
	if err != nil {
		w.t.Fatal(err)
	}
	e.Team, e.Channel, e.User, e.UserKind = "T1", channel, "U"+id, kind
	if _, err := w.b.Publish(context.Background(), schemas.InSubject(schemas.KindMention, "T1", channel), e); err != nil {
		w.t.Fatal(err)
	}
	var answer string
	bustest.Eventually(w.t, 15*time.Second, func() bool {
		var b strings.Builder
		stopped := false
		for _, env := range w.outputs(ts) {
			d, _ := schemas.DecodeData[schemas.OutStream](env)
			switch env.Type {
			case schemas.TypeOutStreamStart, schemas.TypeOutStreamAppend:
				b.WriteString(d.Markdown)
			case schemas.TypeOutStreamStop:
				b.WriteString(d.Markdown)
				stopped = true
			}
		}
		answer = b.String()
		return stopped
	}, "answer to %s in thread %s", id, ts)
	return answer
}

// outputs are the commands to egress in one thread.
func (w *aiPolicy) outputs(threadTS string) []*schemas.Envelope {
	var envs []*schemas.Envelope
	for _, m := range w.out() {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			w.t.Fatal(err)
		}
		var th struct {
			ThreadTS string `json:"thread_ts"`
		}
		_ = json.Unmarshal(env.Data, &th)
		if th.ThreadTS == threadTS {
			envs = append(envs, env)
		}
	}
	return envs
}

// toolsOffered lists the tools of every model request about question.
func (w *aiPolicy) toolsOffered(question string) map[string]bool {
	names := map[string]bool{}
	for _, r := range w.sim.Requests() {
		asked := false
		for _, m := range r.Messages {
			asked = asked || (m.Role == "user" && strings.Contains(m.Text(), question))
		}
		if asked {
			for _, tool := range r.Tools {
				names[tool.Function.Name] = true
			}
		}
	}
	return names
}

// TestAIERPPolicy: who may use Maria's ERP access, and where. Refused
// users get a clear reply in the thread, the model is offered no ERP tool,
// and when it calls one anyway nothing reaches maria.erp.*.
func TestAIERPPolicy(t *testing.T) {
	w := startAIPolicy(t)
	const order = "What is the status of S00042?"
	const outsiders = "Guests and people from other organisations cannot use Maria's ERP access"

	for _, tc := range []struct {
		id, kind, channel, why string
	}{
		{"000001", schemas.UserKindGuest, "C0BOTH", outsiders},
		{"000002", schemas.UserKindExternal, "C0BOTH", outsiders},
		{"000003", schemas.UserKindUnknown, "C0BOTH", "couldn't confirm that you are a member"},
		{"000004", "", "C0BOTH", "couldn't confirm that you are a member"}, // nobody classified the user
		{"000005", schemas.UserKindBot, "C0BOTH", "Bots and apps cannot use Maria's ERP access"},
		{"000006", schemas.UserKindMember, "C0OTHER", "ERP access is not enabled in this channel; ask an admin to add it to MARIA_ERP_READ_CHANNELS"},
	} {
		question := order + " (" + tc.id + ")"
		answer := w.ask(tc.id, tc.kind, tc.channel, question)
		if !strings.Contains(answer, tc.why) {
			t.Errorf("%s %q in %s: answer %q does not say %q", tc.id, tc.kind, tc.channel, answer, tc.why)
		}
		if strings.Contains(answer, "Azure Interior") {
			t.Errorf("%s %q in %s: answer carries ERP data: %q", tc.id, tc.kind, tc.channel, answer)
		}
		if tools := w.toolsOffered(question); len(tools) != 0 {
			t.Errorf("%s %q in %s: model offered %v", tc.id, tc.kind, tc.channel, tools)
		}
	}
	if n := w.queries.Load(); n != 0 {
		t.Fatalf("refused users caused %d ERP queries", n)
	}
	if msgs := w.erp(); len(msgs) != 0 {
		t.Fatalf("refused users caused %d message(s) on maria.erp.* (first: %s)", len(msgs), msgs[0].Subject)
	}

	// A member in an enabled channel is answered from the ERP.
	if answer := w.ask("000010", schemas.UserKindMember, "C0BOTH", order); !strings.Contains(answer, "Azure Interior") {
		t.Fatalf("member in an enabled channel: answer %q lacks the ERP data", answer)
	}
	if w.queries.Load() == 0 {
		t.Fatal("member in an enabled channel: no ERP query")
	}

	// In a channel enabled for reads only, a change is refused: the model
	// reads (the salesperson) but is offered no write tool, its odoo_create
	// call is refused, no proposal is posted and no command published.
	const lead = "Create a lead for Acme, 5k, for Mitchell"
	answer := w.ask("000020", schemas.UserKindMember, "C0READ", lead)
	if !strings.Contains(answer, "ERP changes are not enabled in this channel; ask an admin to add it to MARIA_ERP_WRITE_CHANNELS") {
		t.Errorf("write in a read-only channel: answer %q does not say why", answer)
	}
	if tools := w.toolsOffered(lead); tools[ai.ToolCreate] || tools[ai.ToolWrite] || !tools[ai.ToolSearchRead] {
		t.Errorf("read-only channel: tools offered %v, want reads only", tools)
	}
	for _, env := range w.outputs("1700000000.000020") {
		if env.Type == schemas.TypeOutPost {
			t.Errorf("read-only channel: a proposal was posted: %s", env.Data)
		}
	}
	for _, m := range w.erp() {
		if m.Subject != schemas.SubjectERPQuery {
			t.Errorf("read-only channel: published on %s", m.Subject)
		}
	}
}

// TestAIAnswerCannotPing: a model answer with <!channel>, <!here>, a user
// group and a link to a foreign host reaches maria.out neutralised.
func TestAIAnswerCannotPing(t *testing.T) {
	w := startAIPolicy(t)
	answer := w.ask("000030", schemas.UserKindMember, "C0BOTH", "announce the shipment")
	for _, live := range []string{"<!channel>", "<!here>", "<!subteam", "https://evil.example"} {
		if strings.Contains(answer, live) {
			t.Errorf("answer %q carries %s", answer, live)
		}
	}
	want := "Heads up @\u200dchannel, @\u200dhere and @\u200dsales: S00042 shipped, details at Odoo (`evil.example`)."
	if !strings.HasPrefix(answer, want) {
		t.Errorf("answer %q, want it to start with %q", answer, want)
	}
}
