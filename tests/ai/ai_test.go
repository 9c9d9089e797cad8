// Package ai_test is the acceptance suite of the AI processor: the real
// processor and go-openai client against the OpenAI simulator, an embedded
// NATS, and a stub of the ERP query service on maria.erp.query.
package ai_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const odooBase = "http://odoo.test"

// erpStub answers maria.erp.query like the ERP query service, from fixtures.
type erpStub struct {
	mu      sync.Mutex
	queries []schemas.ERPQuery
	// correlations are the Maria-Correlation-Id headers of the requests.
	correlations []string
}

func (s *erpStub) reply(q schemas.ERPQuery) schemas.ERPReply {
	domain, _ := json.Marshal(q.Domain)
	switch {
	case q.Method == "search_read" && q.Model == "sale.order" && strings.Contains(string(domain), `"S00042"`):
		return schemas.ERPReply{BaseURL: odooBase, Records: []map[string]any{{
			"id": 42, "name": "S00042", "partner_id": []any{14, "Azure Interior"}, "state": "sale",
			"amount_total": 1799.0, "date_order": "2026-10-02 09:14:00", "invoice_status": "to invoice"}}}
	case q.Method == "search_read" && q.Model == "res.users" && strings.Contains(string(domain), "Mitchell"):
		return schemas.ERPReply{BaseURL: odooBase, Records: []map[string]any{{"id": 6, "name": "Marc Mitchell"}}}
	case q.Method == "search_read":
		return schemas.ERPReply{BaseURL: odooBase, Records: []map[string]any{}}
	}
	return schemas.ERPReply{Error: "method not allowed", Kind: "refused"}
}

func (s *erpStub) all() []schemas.ERPQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]schemas.ERPQuery(nil), s.queries...)
}

type world struct {
	t   *testing.T
	b   *bus.Bus
	sim *openaisim.Sim
	erp *erpStub
	p   *ai.Processor
	out func() []*nats.Msg
	dlq func() []*nats.Msg
}

func newWorld(t *testing.T, sim *openaisim.Sim, env map[string]string) *world {
	t.Helper()
	b := bustest.New(t)
	w := &world{t: t, b: b, sim: sim, erp: &erpStub{}}
	w.out = bustest.Subscribe(t, b, schemas.SubjectOutAll)
	w.dlq = bustest.Subscribe(t, b, schemas.SubjectDLQAll)
	sub, err := b.Conn().Subscribe(schemas.SubjectERPQuery, func(m *nats.Msg) {
		var q schemas.ERPQuery
		if err := json.Unmarshal(m.Data, &q); err != nil {
			_ = m.Respond([]byte(`{"error":"unreadable query","kind":"refused"}`))
			return
		}
		w.erp.mu.Lock()
		w.erp.queries = append(w.erp.queries, q)
		w.erp.correlations = append(w.erp.correlations, m.Header.Get(schemas.HeaderCorrelationID))
		w.erp.mu.Unlock()
		raw, _ := json.Marshal(w.erp.reply(q))
		_ = m.Respond(raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })

	vars := map[string]string{
		"OPENAI_BASE_URL":             openaisim.Start(t, sim),
		"OPENAI_API_KEY":              "sk-test-not-a-secret",
		"OPENAI_MODEL":                "gpt-4o-mini",
		"MARIA_AI_TIMEOUT":            "5s",
		"MARIA_AI_STREAM_FLUSH_CHARS": "40",
		// These tests check which statuses a turn shows: every one, at
		// once (the delay that hides a quick turn's is tested in
		// processors/ai and by tests/bench TestTurnMessages).
		"MARIA_AI_STATUS_DELAY": "0",
		// The test channel is enabled for ERP reads and writes.
		"MARIA_ERP_READ_CHANNELS":  "C1,dm",
		"MARIA_ERP_WRITE_CHANNELS": "C1,dm",
	}
	for k, v := range env {
		vars[k] = v
	}
	e := config.NewEnvFrom(vars)
	cfg := ai.LoadConfig(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := ai.New(ctx, b, cfg, ai.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.p = p
	done := make(chan struct{})
	go func() { _ = p.Service().Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func (w *world) publish(kind, typ, id, user, thread string, data any) *schemas.Envelope {
	w.t.Helper()
	env, err := schemas.New(id, typ, "ingress", data)
	if err != nil {
		w.t.Fatal(err)
	}
	env.Team, env.Channel, env.User, env.ThreadTS = "T1", "C1", user, thread
	env.UserKind = schemas.UserKindMember // as ingress classifies a workspace member
	if _, err := w.b.Publish(context.Background(), schemas.InSubject(kind, "T1", "C1"), env); err != nil {
		w.t.Fatal(err)
	}
	return env
}

func (w *world) outputs(typ string) []*schemas.Envelope {
	var envs []*schemas.Envelope
	for _, m := range w.out() {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			w.t.Fatalf("bad output: %v", err)
		}
		if typ == "" || env.Type == typ {
			envs = append(envs, env)
		}
	}
	return envs
}

// answer is the text streamed under one ref, in order: the start carries
// the first batch, appends the next, the stop the rest.
func (w *world) answer(ref string) string {
	var s strings.Builder
	for _, e := range w.outputs("") {
		if e.Type != schemas.TypeOutStreamStart && e.Type != schemas.TypeOutStreamAppend && e.Type != schemas.TypeOutStreamStop {
			continue
		}
		d, _ := schemas.DecodeData[schemas.OutStream](e)
		if d.Ref == ref {
			s.WriteString(d.Markdown)
		}
	}
	return s.String()
}

func (w *world) stops() []schemas.OutStream {
	var out []schemas.OutStream
	for _, e := range w.outputs(schemas.TypeOutStreamStop) {
		d, _ := schemas.DecodeData[schemas.OutStream](e)
		out = append(out, *d)
	}
	return out
}

func (w *world) waitStops(n int) []schemas.OutStream {
	w.t.Helper()
	bustest.Eventually(w.t, 10*time.Second, func() bool { return len(w.stops()) >= n }, "want %d finished answers", n)
	return w.stops()
}

func (w *world) waitDrained() {
	w.t.Helper()
	bustest.Eventually(w.t, 10*time.Second, func() bool {
		c, err := w.b.JetStream().Consumer(context.Background(), schemas.StreamIn, ai.ConsumerName)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, "ai consumer not drained")
}

func messagesText(r *openaisim.Request) string {
	var parts []string
	for _, m := range r.Messages {
		parts = append(parts, m.Role+": "+m.Text())
	}
	return strings.Join(parts, "\n")
}

// A mention asking for an order → odoo_search_read through the ERP query
// service → a threaded, streamed answer with the ERP's figures; a follow-up
// in the thread (no mention) → the model sees the earlier turn.
func TestOrderQuestionAndFollowUp(t *testing.T) {
	sim := openaisim.New(openaisim.Rules())
	w := newWorld(t, sim, nil)
	w.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev1", "U1", "",
		schemas.SlackMessage{TS: "1700000000.000100", Text: "<@UMARIA> What is the status of S00042?"})

	stop := w.waitStops(1)[0]
	if stop.ThreadTS != "1700000000.000100" {
		t.Fatalf("answer not in the thread: %+v", stop)
	}
	got := w.answer(stop.Ref)
	for _, want := range []string{"S00042", "Azure Interior", "1,799.00", "sale"} {
		if !strings.Contains(got, want) {
			t.Fatalf("answer %q lacks %q", got, want)
		}
	}
	if !strings.Contains(got, schemas.OdooRecordURL(odooBase, "sale.order", 42)) {
		t.Fatalf("answer %q has no link to the order", got)
	}
	t.Logf("answer:\n%s", got)
	q := w.erp.all()
	if len(q) != 1 || q[0].Method != "search_read" || q[0].Model != "sale.order" {
		t.Fatalf("ERP queries = %+v", q)
	}
	if d, _ := json.Marshal(q[0].Domain); string(d) != `[["name","=","S00042"]]` {
		t.Fatalf("domain = %s", d)
	}
	w.erp.mu.Lock()
	corr := append([]string(nil), w.erp.correlations...)
	w.erp.mu.Unlock()
	if len(corr) != 1 || corr[0] != "Ev1" {
		t.Fatalf("ERP query correlation headers = %q, want the mention's id Ev1", corr)
	}
	reqs := sim.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d OpenAI requests, want 2 (tool call, answer)", len(reqs))
	}
	names := map[string]bool{}
	for _, tool := range reqs[0].Tools {
		names[tool.Function.Name] = true
	}
	for _, n := range []string{"odoo_search_read", "odoo_count", "odoo_fields", "odoo_create", "odoo_write"} {
		if !names[n] {
			t.Fatalf("tool %s not offered: %v", n, names)
		}
	}
	if !reqs[0].Stream || reqs[0].StreamOptions == nil || !reqs[0].StreamOptions.IncludeUsage {
		t.Fatalf("request not streamed with usage: %s", reqs[0].Raw)
	}
	if last := reqs[1].Messages[len(reqs[1].Messages)-1]; last.Role != "tool" || !strings.Contains(last.Text(), "Azure Interior") {
		t.Fatalf("tool result not sent back: %+v", last)
	}
	var statuses []string
	for _, e := range w.outputs(schemas.TypeOutStatus) {
		d, _ := schemas.DecodeData[schemas.OutStatus](e)
		statuses = append(statuses, d.Status)
	}
	if len(statuses) < 3 || statuses[0] != "is thinking…" || statuses[len(statuses)-1] != "" {
		t.Fatalf("statuses = %q", statuses)
	}

	// Follow-up in the thread, without mentioning Maria.
	w.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev2", "U1", "1700000000.000100",
		schemas.SlackMessage{TS: "1700000000.000200", ThreadTS: "1700000000.000100", ChannelType: "channel", Text: "and who is the customer?"})
	stops := w.waitStops(2)
	follow := sim.Requests()[2]
	history := messagesText(follow)
	if !strings.Contains(history, "user: What is the status of S00042?") || !strings.Contains(history, "Azure Interior") {
		t.Fatalf("follow-up request lacks the earlier turn:\n%s", history)
	}
	if got := w.answer(stops[1].Ref); !strings.Contains(got, "Azure Interior") {
		t.Fatalf("follow-up answer = %q", got)
	}
	if len(w.erp.all()) != 1 {
		t.Fatalf("follow-up re-read the ERP: %+v", w.erp.all())
	}
}

// A create request → a proposal with Confirm/Cancel and no ERP command;
// clicks by someone else are refused; the asker's click (double-clicked and
// redelivered) → exactly one maria.erp.command.
func TestCreateLeadProposalConfirmedExactlyOnce(t *testing.T) {
	sim := openaisim.New(openaisim.Rules())
	w := newWorld(t, sim, nil)
	w.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev1", "U1", "",
		schemas.SlackMessage{TS: "1700000000.000100", Text: "<@UMARIA> Create a lead for Acme, 5k, for Mitchell"})
	stop := w.waitStops(1)[0]
	if got := w.answer(stop.Ref); !strings.Contains(got, "Confirm") {
		t.Fatalf("answer %q does not say it awaits confirmation", got)
	}
	posts := w.outputs(schemas.TypeOutPost)
	if len(posts) != 1 {
		t.Fatalf("%d posts, want the proposal", len(posts))
	}
	post, _ := schemas.DecodeData[schemas.OutPost](posts[0])
	blocks, _ := json.Marshal(post.Blocks)
	for _, want := range []string{`"action_id":"erp_confirm"`, `"action_id":"erp_cancel"`, "crm.lead", "Acme", "5000", "user_id"} {
		if !strings.Contains(string(blocks), want) {
			t.Fatalf("proposal blocks lack %s: %s", want, blocks)
		}
	}
	if post.ThreadTS != "1700000000.000100" || post.Ref == "" {
		t.Fatalf("proposal post = %+v", post)
	}
	var parsed []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(blocks, &parsed)
	propID := parsed[2].Elements[0].Value

	commands := func() uint64 {
		s, err := w.b.JetStream().Stream(context.Background(), schemas.StreamERP)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(schemas.SubjectERPCommandAll))
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Msgs
	}
	w.waitDrained()
	if n := commands(); n != 0 {
		t.Fatalf("%d ERP commands before confirmation", n)
	}

	click := func(id, user string) *schemas.Envelope {
		return w.publish(schemas.KindAction, schemas.TypeSlackAction, id, user, "1700000000.000100",
			schemas.SlackAction{ActionID: "erp_confirm", Value: propID, MessageTS: "1700000000.000150"})
	}
	click("click-mallory", "U2")
	bustest.Eventually(t, 10*time.Second, func() bool { return len(w.outputs(schemas.TypeOutEphemeral)) == 1 }, "refusal")
	eph, _ := schemas.DecodeData[schemas.OutEphemeral](w.outputs(schemas.TypeOutEphemeral)[0])
	if eph.User != "U2" || !strings.Contains(eph.Text, "<@U1>") {
		t.Fatalf("refusal = %+v", eph)
	}
	first := click("click-1", "U1")
	click("click-2", "U1")
	redelivery, _ := bus.EnvelopeMsg(context.Background(), schemas.InSubject(schemas.KindAction, "T1", "C1"), first)
	redelivery.Header.Set(schemas.HeaderMsgID, "click-1-again")
	if _, err := w.b.PublishMsg(context.Background(), redelivery); err != nil {
		t.Fatal(err)
	}
	w.waitDrained()
	bustest.Eventually(t, 10*time.Second, func() bool { return commands() == 1 }, "the ERP command")
	if n := commands(); n != 1 {
		t.Fatalf("%d ERP commands, want exactly 1", n)
	}
	s, _ := w.b.JetStream().Stream(context.Background(), schemas.StreamERP)
	raw, err := s.GetLastMsgForSubject(context.Background(), schemas.ERPCommandSubject("crm.lead"))
	if err != nil {
		t.Fatal(err)
	}
	env, _ := schemas.Decode(raw.Data)
	cmd, _ := schemas.DecodeData[schemas.ERPCommand](env)
	if cmd.Op != "create" || cmd.Model != "crm.lead" || cmd.ConfirmedBy != "U1" || cmd.ProposalID != propID ||
		cmd.Values["name"] != "Acme" || cmd.Values["expected_revenue"] != 5000.0 || cmd.Values["user_id"] != 6.0 {
		t.Fatalf("command = %+v", cmd)
	}
	if len(w.dlq()) != 0 {
		t.Fatal("dead letters")
	}
}

// 429 with Retry-After, then success → one answer after one retry.
func TestRateLimitThenSuccess(t *testing.T) {
	sim := openaisim.New(nil)
	sim.Enqueue(openaisim.RateLimited("1"), openaisim.Text("Hello! Ask me about orders, invoices or stock."))
	w := newWorld(t, sim, nil)
	start := time.Now()
	w.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> hello"})
	stops := w.waitStops(1)
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("answered after %s: Retry-After: 1 not honoured", waited)
	}
	w.waitDrained()
	if n := len(w.stops()); n != 1 {
		t.Fatalf("%d answers", n)
	}
	if got := w.answer(stops[0].Ref); got != "Hello! Ask me about orders, invoices or stock." {
		t.Fatalf("answer = %q", got)
	}
	if n := len(sim.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

// insufficient_quota → the apology, no retry, the event acked (no
// redelivery, no dead letter).
func TestQuotaErrorApologizesAndAcks(t *testing.T) {
	sim := openaisim.New(nil)
	sim.Enqueue(openaisim.QuotaExceeded())
	w := newWorld(t, sim, nil)
	w.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> status of S00042?"})
	stops := w.waitStops(1)
	if got := w.answer(stops[0].Ref); !strings.Contains(got, "I can't reach the AI service right now") {
		t.Fatalf("answer = %q", got)
	}
	w.waitDrained()
	c, _ := w.b.JetStream().Consumer(context.Background(), schemas.StreamIn, ai.ConsumerName)
	info, _ := c.Info(context.Background())
	if info.NumRedelivered != 0 || info.AckFloor.Stream == 0 {
		t.Fatalf("consumer = %+v", info)
	}
	if n := len(sim.Requests()); n != 1 {
		t.Fatalf("%d requests: quota errors must not be retried", n)
	}
	if len(w.dlq()) != 0 {
		t.Fatal("dead-lettered")
	}
	var statuses []string
	for _, e := range w.outputs(schemas.TypeOutStatus) {
		d, _ := schemas.DecodeData[schemas.OutStatus](e)
		statuses = append(statuses, d.Status)
	}
	if statuses[len(statuses)-1] != "" {
		t.Fatalf("status not cleared: %q", statuses)
	}
}

// Server errors until the retries run out, with no patience to wait them
// out → the apology, acked.
func TestServerErrorsExhaustRetries(t *testing.T) {
	sim := openaisim.New(nil)
	sim.Enqueue(openaisim.ServerError(503), openaisim.ServerError(500))
	w := newWorld(t, sim, map[string]string{"MARIA_AI_MAX_RETRIES": "1", "MARIA_AI_DEPENDENCY_PATIENCE": "0"})
	w.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> hi"})
	stops := w.waitStops(1)
	if got := w.answer(stops[0].Ref); !strings.Contains(got, "I can't reach the AI service right now") {
		t.Fatalf("answer = %q", got)
	}
	w.waitDrained()
	if n := len(sim.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2 (one retry)", n)
	}
}

// Server errors beyond the client's retries, then the model is back: the
// turn waits them out (saying so in the thread's status) and answers
// normally, once.
func TestServerErrorsWaitedOutWithinPatience(t *testing.T) {
	sim := openaisim.New(openaisim.Rules())
	sim.Enqueue(openaisim.ServerError(503), openaisim.ServerError(500), openaisim.ServerError(502))
	w := newWorld(t, sim, map[string]string{"MARIA_AI_MAX_RETRIES": "1", "MARIA_AI_DEPENDENCY_PATIENCE": "30s"})
	w.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> status of S00042?"})
	stops := w.waitStops(1)
	if got := w.answer(stops[0].Ref); !strings.Contains(got, "Azure Interior") || strings.Contains(got, "can't reach") {
		t.Fatalf("answer = %q", got)
	}
	w.waitDrained()
	if n := len(w.stops()); n != 1 {
		t.Fatalf("%d answers, want 1", n)
	}
	waited := false
	for _, e := range w.outputs(schemas.TypeOutStatus) {
		d, _ := schemas.DecodeData[schemas.OutStatus](e)
		waited = waited || d.Status == "is waiting for the AI service to come back…"
	}
	if !waited {
		t.Fatal("no status told the user Maria was waiting for the AI service")
	}
}

// Parallel tool calls in one response are all executed and answered.
func TestParallelToolCalls(t *testing.T) {
	sim := openaisim.New(openaisim.Rules())
	w := newWorld(t, sim, nil)
	w.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev1", "U1", "",
		schemas.SlackMessage{TS: "1.1", ChannelType: "im", Text: "Status of S00042 and S00043?"})
	stop := w.waitStops(1)[0]
	if n := len(w.erp.all()); n != 2 {
		t.Fatalf("%d ERP queries, want 2", n)
	}
	got := w.answer(stop.Ref)
	if !strings.Contains(got, "Azure Interior") || !strings.Contains(got, "no matching sale.order") {
		t.Fatalf("answer = %q", got)
	}
}
