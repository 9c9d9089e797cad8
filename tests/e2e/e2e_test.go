// Package e2e is Maria's end-to-end suite: every service wired as
// `maria run` wires them (app.Start), on an embedded JetStream, with the
// Slack, OpenAI and Odoo simulators, driven through the real HTTP ingress
// with signed Slack requests. It builds its environment with the demo
// package (cmd/maria/demo), so `maria demo` and this suite share their
// wiring. Waits poll with deadlines; nothing asserts on time.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

const (
	channel = "C0SALES"
	alice   = "U0ALICE"
	bob     = "U0BOB"
	// erpChannels are where the suite's users may use the ERP.
	erpChannels = "C0SALES,C0NORTH,C0SOUTH,dm"
)

func logSink() io.Writer {
	if os.Getenv("MARIA_TEST_LOG") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// start builds the demo environment for one test; it is closed at the end.
func start(t *testing.T, o demo.Options) *demo.Env {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.LogOutput == nil {
		o.LogOutput = logSink()
	}
	if o.SettleTimeout == 0 {
		o.SettleTimeout = 30 * time.Second
	}
	// The suite's channels are enabled for the ERP, as an admin lists them.
	overrides := map[string]string{"MARIA_ERP_READ_CHANNELS": erpChannels, "MARIA_ERP_WRITE_CHANNELS": erpChannels}
	for k, v := range o.Overrides {
		overrides[k] = v
	}
	o.Overrides = overrides
	e, err := demo.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	if e.OpenAI == nil || e.Odoo == nil {
		t.Fatal("the suite runs on the simulators: unset OPENAI_* and ODOO_* for it")
	}
	return e
}

// result holds a (value, error) pair: ok(f()).get(t) fails the test on error.
type result[T any] struct {
	v   T
	err error
}

func ok[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func settle(t *testing.T, e *demo.Env, turn *demo.Turn, done func([]demo.Seen) bool) []demo.Seen {
	t.Helper()
	seen, err := e.Settle(context.Background(), turn.ID, done)
	if err != nil {
		t.Fatalf("turn %q (%s): %v\n%s", turn.Text, turn.ID, err, e.Slack.Transcript())
	}
	return seen
}

// botThread is what Maria posted in a thread, in order.
func botThread(e *demo.Env, ch, thread string) []slacksim.Message {
	var out []slacksim.Message
	for _, m := range e.Slack.Thread(ch, thread) {
		if m.BotID == slacksim.BotID {
			out = append(out, m)
		}
	}
	return out
}

func texts(ms []slacksim.Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Text)
		b.WriteString("\n")
	}
	return b.String()
}

// stored reads every message of Maria's streams stored since the given
// time, decoded (the streams are the record: a core subscription also sees
// publishes the streams dropped as duplicates).
type storedEnv struct {
	ops.Stored
	Env *schemas.Envelope
}

func streamed(t *testing.T, e *demo.Env, since time.Time) []storedEnv {
	t.Helper()
	var out []storedEnv
	for _, name := range ops.TraceStreams() {
		err := ops.Scan(context.Background(), e.Observer.JetStream(), name, ops.Window{Since: since}, ops.ScanOptions{}, func(s ops.Stored) (bool, error) {
			env, err := schemas.Decode(s.Data)
			if err != nil {
				t.Errorf("%s #%d on %s is not an envelope: %v", name, s.Sequence, s.Subject, err)
				return true, nil
			}
			out = append(out, storedEnv{Stored: s, Env: env})
			return true, nil
		})
		if err != nil {
			t.Fatalf("scan %s: %v", name, err)
		}
	}
	return out
}

func countType(msgs []storedEnv, corr, typ string) int {
	n := 0
	for _, m := range msgs {
		if m.Env.CorrelationID == corr && m.Env.Type == typ {
			n++
		}
	}
	return n
}

// The demo's conversation, as assertions: an order question answered from
// the ERP in its thread, a follow-up answered from memory, a lead proposed
// and written exactly once on the asker's click (a double click and Slack's
// retry of the click change nothing; someone else's click is refused), and
// a shared image stored byte for byte.
func TestConversation(t *testing.T) {
	e := start(t, demo.Options{})
	ctx := context.Background()

	// 1. Order question → ERP read → answer in the thread.
	q := ok(e.Mention(ctx, channel, alice, demo.QuestionOrder, "")).get(t)
	settle(t, e, q, demo.Answered)
	answer := botThread(e, channel, q.ThreadTS)
	if len(answer) != 1 {
		t.Fatalf("want one answer in the thread, got %d:\n%s", len(answer), e.Slack.Transcript())
	}
	for _, want := range []string{"S00042", "Azure Interior", "1,587.00", "sale", "web#id=42&model=sale.order"} {
		if !strings.Contains(answer[0].Text, want) {
			t.Fatalf("answer %q lacks %q", answer[0].Text, want)
		}
	}
	if answer[0].Streaming {
		t.Fatal("the answer's stream was never stopped")
	}
	if n := e.Odoo.Calls("sale.order.search_read"); n != 1 {
		t.Fatalf("Odoo sale.order.search_read calls = %d, want 1", n)
	}

	// 2. Follow-up in the thread, no mention → answered from memory.
	before := len(e.OpenAI.Requests())
	odooCalls := e.Odoo.Calls("*")
	f := ok(e.Reply(ctx, channel, alice, demo.QuestionFollowUp, q.ThreadTS)).get(t)
	settle(t, e, f, demo.Answered)
	answer = botThread(e, channel, q.ThreadTS)
	if len(answer) != 2 || answer[1].Text != "The customer is *Azure Interior* and the total is *1,587.00*." {
		t.Fatalf("follow-up answer:\n%s", texts(answer))
	}
	reqs := e.OpenAI.Requests()[before:]
	if len(reqs) != 1 {
		t.Fatalf("%d model requests for the follow-up, want 1", len(reqs))
	}
	var history strings.Builder
	for _, m := range reqs[0].Messages {
		history.WriteString(m.Role + ": " + m.Text() + "\n")
	}
	if !strings.Contains(history.String(), "user: "+demo.QuestionOrder) || !strings.Contains(history.String(), "Azure Interior") {
		t.Fatalf("the follow-up request lacks the earlier turn:\n%s", history.String())
	}
	if e.Odoo.Calls("*") != odooCalls {
		t.Fatal("the follow-up read Odoo again")
	}

	// 3. A lead: proposal, nothing written; Bob's click refused; Alice's
	// click, double click and Slack's retry → exactly one lead.
	leads := e.Odoo.Count("crm.lead")
	l := ok(e.Reply(ctx, channel, alice, demo.QuestionLead, q.ThreadTS)).get(t)
	settle(t, e, l, demo.Answered)
	msg, confirm, found := e.FindButton(channel, q.ThreadTS, ai.ActionConfirm)
	if !found {
		t.Fatalf("no proposal with a Confirm button:\n%s", e.Slack.Transcript())
	}
	if e.Odoo.Count("crm.lead") != leads {
		t.Fatal("a lead was written before the click")
	}
	refused := ok(e.Click(ctx, bob, msg, confirm)).get(t)
	seen := settle(t, e, refused, demo.AnyDelivered)
	if eph := e.Ephemerals(refused, seen); len(eph) != 1 || eph[0].User != bob || !strings.Contains(eph[0].Text, "Only <@"+alice+">") {
		t.Fatalf("Bob's click: %+v", eph)
	}
	if len(demo.OfType(seen, schemas.TypeERPCommand)) != 0 {
		t.Fatal("Bob's click sent an ERP command")
	}
	click := ok(e.Click(ctx, alice, msg, confirm)).get(t)
	again := ok(e.Click(ctx, alice, msg, confirm)).get(t) // a double click: another action_ts
	if err := e.Resend(ctx, click, 1); err != nil {       // Slack's retry of the first
		t.Fatal(err)
	}
	settle(t, e, click, demo.ERPDone)
	seen = settle(t, e, again, demo.AnyDelivered)
	if n := e.Odoo.Count("crm.lead"); n != leads+1 {
		t.Fatalf("crm.lead %d → %d, want exactly one more", leads, n)
	}
	if n := e.Odoo.Calls("crm.lead.create"); n != 1 {
		t.Fatalf("crm.lead.create calls = %d, want 1", n)
	}
	lead := e.Odoo.Record("crm.lead", int64(leads+1))
	if lead["name"] != "Acme" || lead["expected_revenue"] != 5000.0 {
		t.Fatalf("lead = %v", lead)
	}
	if u, _ := lead["user_id"].([]any); len(u) != 2 || u[1] != "Mitchell Admin" {
		t.Fatalf("lead salesperson = %v", lead["user_id"])
	}
	if eph := e.Ephemerals(again, seen); len(eph) != 1 || !strings.Contains(eph[0].Text, "already") {
		t.Fatalf("the double click should be told it was already done: %+v", eph)
	}
	updated, _ := e.Slack.Message(channel, msg.TS)
	if updated.Edits == 0 || len(demo.Buttons(updated)) != 0 || !strings.Contains(updated.Text, "crm.lead") {
		t.Fatalf("the proposal was not updated with the outcome: %+v", updated)
	}

	// 4. A shared image → stored, byte for byte, once.
	img := demo.DemoImage()
	file, _, err := e.ShareFile(ctx, channel, "channel", alice, "", q.ThreadTS, demo.ImageName, "image/png", img)
	if err != nil {
		t.Fatal(err)
	}
	seen = settle(t, e, file, demo.Stored)
	sfs := demo.OfType(seen, schemas.TypeStoredFile)
	if len(sfs) != 1 {
		t.Fatalf("%d stored.file messages", len(sfs))
	}
	sf := ok(schemas.DecodeData[schemas.StoredFile](sfs[0])).get(t)
	sum := sha256.Sum256(img)
	if sf.Backend != "nats" || sf.ContentType != "image/png" || sf.SHA256 != hex.EncodeToString(sum[:]) || sf.Size != int64(len(img)) {
		t.Fatalf("stored = %+v", sf)
	}
	obj, err := e.Observer.JetStream().ObjectStore(ctx, sf.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obj.GetBytes(ctx, sf.Key); err != nil || !bytes.Equal(got, img) {
		t.Fatalf("object %s/%s: %v (equal=%v)", sf.Bucket, sf.Key, err, bytes.Equal(got, img))
	}
	// The thread: answer, follow-up, proposal (updated), the note about it,
	// and the result — reported once despite the double click and the retry.
	thread := botThread(e, channel, q.ThreadTS)
	if len(thread) != 5 || strings.Count(texts(thread), "Created crm.lead") != 2 || !strings.HasPrefix(thread[4].Text, "✅ Created crm.lead") {
		t.Fatalf("thread:\n%s", e.Slack.Transcript())
	}
	if dl := demo.DeadLetters(e.Watch.All()); len(dl) != 0 {
		t.Fatalf("dead letters: %s %s", dl[0].Subject, dl[0].Header.Get(schemas.HeaderDLQReason))
	}
}

// Slack retries an event it thinks was not acknowledged (same event_id,
// X-Slack-Retry-Num): at once and after the answer — one reply.
func TestSlackRetryOneReply(t *testing.T) {
	e := start(t, demo.Options{})
	ctx := context.Background()
	since := time.Now().Add(-time.Second)
	q := ok(e.Mention(ctx, channel, alice, demo.QuestionOrder, "")).get(t)
	if err := e.Resend(ctx, q, 1); err != nil {
		t.Fatal(err)
	}
	settle(t, e, q, demo.Answered)
	if err := e.Resend(ctx, q, 2); err != nil {
		t.Fatal(err)
	}
	settle(t, e, q, demo.Answered)
	if got := botThread(e, channel, q.ThreadTS); len(got) != 1 {
		t.Fatalf("%d replies, want 1:\n%s", len(got), e.Slack.Transcript())
	}
	msgs := streamed(t, e, since)
	if n := countType(msgs, q.ID, schemas.TypeSlackMention); n != 1 {
		t.Fatalf("the event is stored %d times in MARIA_IN", n)
	}
	if n := countType(msgs, q.ID, schemas.TypeOutStreamStart); n != 1 {
		t.Fatalf("%d answers started", n)
	}
	if n := len(e.Slack.CallsTo("chat.startStream")); n != 1 {
		t.Fatalf("chat.startStream called %d times", n)
	}
	if n := e.Odoo.Calls("sale.order.search_read"); n != 1 {
		t.Fatalf("Odoo read %d times", n)
	}
}

// Three conversations at once — two channels, and two threads in one
// channel — stay separate: each answer in its own thread, and each
// follow-up sees only its own thread's memory.
func TestParallelConversationsStaySeparate(t *testing.T) {
	e := start(t, demo.Options{})
	ctx := context.Background()
	convs := []struct {
		channel, user, order, customer string
		q                              *demo.Turn
	}{
		{channel: "C0NORTH", user: alice, order: "S00042", customer: "Azure Interior"},
		{channel: "C0SOUTH", user: bob, order: "S00043", customer: "Deco Addict"},
		{channel: "C0NORTH", user: bob, order: "S00044", customer: "Gemini Furniture"},
	}
	ask := func(each func(i int) *demo.Turn) []*demo.Turn {
		turns := make([]*demo.Turn, len(convs))
		var wg sync.WaitGroup
		for i := range convs {
			wg.Add(1)
			go func() { defer wg.Done(); turns[i] = each(i) }()
		}
		wg.Wait()
		for i, tr := range turns {
			if tr == nil {
				t.Fatalf("conversation %d: not delivered", i)
			}
		}
		for _, tr := range turns {
			settle(t, e, tr, demo.Answered)
		}
		return turns
	}
	qs := ask(func(i int) *demo.Turn {
		tr, err := e.Mention(ctx, convs[i].channel, convs[i].user, "What is the status of "+convs[i].order+"?", "")
		if err != nil {
			t.Error(err)
			return nil
		}
		return tr
	})
	for i := range convs {
		convs[i].q = qs[i]
	}
	ask(func(i int) *demo.Turn {
		tr, err := e.Reply(ctx, convs[i].channel, convs[i].user, "and who is the customer?", convs[i].q.ThreadTS)
		if err != nil {
			t.Error(err)
			return nil
		}
		return tr
	})
	for i, c := range convs {
		got := botThread(e, c.channel, c.q.ThreadTS)
		if len(got) != 2 {
			t.Fatalf("conversation %d: %d replies in its thread, want 2:\n%s", i, len(got), e.Slack.Transcript())
		}
		if !strings.Contains(got[0].Text, c.order) || !strings.Contains(got[0].Text, c.customer) {
			t.Fatalf("conversation %d: answer %q", i, got[0].Text)
		}
		if want := "The customer is *" + c.customer + "*."; got[1].Text != want {
			t.Fatalf("conversation %d: follow-up %q, want %q", i, got[1].Text, want)
		}
		for j, o := range convs {
			if j != i && strings.Contains(texts(got), o.customer) {
				t.Fatalf("conversation %d mentions conversation %d's customer %s:\n%s", i, j, o.customer, texts(got))
			}
		}
	}
	// Nothing landed outside the threads.
	for _, ch := range []string{"C0NORTH", "C0SOUTH"} {
		for _, m := range e.Slack.BotMessages(ch) {
			if m.ThreadTS == "" {
				t.Fatalf("a top-level bot message in %s: %q", ch, m.Text)
			}
		}
	}
}

// slowFirst wraps the rules: the first model request whose question
// contains marker answers after delay, streamed slowly.
func slowFirst(marker string, delay time.Duration, chunkDelay time.Duration) (*openaisim.Sim, func() int) {
	rules := openaisim.Rules()
	var mu sync.Mutex
	hits := 0
	sim := openaisim.New(func(r *openaisim.Request) openaisim.Response {
		resp := rules(r)
		question := ""
		for _, m := range r.Messages {
			if m.Role == "user" {
				question = m.Text()
			}
		}
		if strings.Contains(question, marker) {
			mu.Lock()
			hits++
			first := hits == 1
			mu.Unlock()
			if first {
				resp.Delay = delay
			}
			if resp.Content != "" {
				resp.ChunkSize, resp.ChunkDelay = 8, chunkDelay
			}
		}
		return resp
	})
	return sim, func() int { mu.Lock(); defer mu.Unlock(); return hits }
}

// The AI processor is restarted while the model is still answering a
// question (SIGTERM: it drains its in-flight turn), and is down while the
// next question arrives: each answer comes, once, and the restarted
// processor still remembers the thread.
func TestAIRestartMidConversation(t *testing.T) {
	sim, hits := slowFirst("S00042", 1500*time.Millisecond, 0)
	e := start(t, demo.Options{Split: true, OpenAI: sim})
	ctx := context.Background()

	q := ok(e.Mention(ctx, channel, alice, demo.QuestionOrder, "")).get(t)
	bustest.Eventually(t, 20*time.Second, func() bool { return hits() >= 1 }, "the model never got the question")
	// The model is answering; restart the AI processor now.
	if err := e.StopService("ai"); err != nil {
		t.Fatal(err)
	}
	if err := e.StartService(ctx, "ai"); err != nil {
		t.Fatal(err)
	}
	settle(t, e, q, demo.Answered)
	got := botThread(e, channel, q.ThreadTS)
	if len(got) != 1 || !strings.Contains(got[0].Text, "Azure Interior") {
		t.Fatalf("want one answer after the restart:\n%s", e.Slack.Transcript())
	}

	// Down while the follow-up arrives: it waits in MARIA_IN.
	if err := e.StopService("ai"); err != nil {
		t.Fatal(err)
	}
	f := ok(e.Reply(ctx, channel, alice, "who is the customer?", q.ThreadTS)).get(t)
	bustest.Eventually(t, 10*time.Second, func() bool {
		c, err := e.Observer.JetStream().Consumer(ctx, schemas.StreamIn, ai.ConsumerName)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending >= 1
	}, "the follow-up is not waiting for the AI consumer")
	if err := e.StartService(ctx, "ai"); err != nil {
		t.Fatal(err)
	}
	settle(t, e, f, demo.Answered)
	got = botThread(e, channel, q.ThreadTS)
	if len(got) != 2 || got[1].Text != "The customer is *Azure Interior*." {
		t.Fatalf("follow-up after the restart:\n%s", e.Slack.Transcript())
	}
	msgs := streamed(t, e, q.Started.Add(-time.Second))
	for _, tr := range []*demo.Turn{q, f} {
		if n := countType(msgs, tr.ID, schemas.TypeOutStreamStart); n != 1 {
			t.Fatalf("turn %s: %d answers started, want 1", tr.ID, n)
		}
	}
}

// Egress is restarted in the middle of a streamed answer: the AI keeps
// streaming into MARIA_OUT while egress is down; the restarted egress
// finishes the same Slack message, in order, once.
func TestEgressRestartMidStream(t *testing.T) {
	sim, _ := slowFirst("S00042", 0, 80*time.Millisecond)
	e := start(t, demo.Options{Split: true, OpenAI: sim, Overrides: map[string]string{
		"MARIA_AI_STREAM_FLUSH_CHARS": "16", "MARIA_AI_STREAM_FLUSH_INTERVAL": "50ms"}})
	ctx := context.Background()

	q := ok(e.Mention(ctx, channel, alice, demo.QuestionOrder, "")).get(t)
	bustest.Eventually(t, 20*time.Second, func() bool {
		for _, d := range demo.Delivered(e.Watch.Turn(q.ID)) {
			if d.CommandType == schemas.TypeOutStreamAppend {
				return true
			}
		}
		return false
	}, "no part of the answer reached Slack")
	if err := e.StopService("egress"); err != nil {
		t.Fatal(err)
	}
	partial := botThread(e, channel, q.ThreadTS)
	if len(partial) != 1 || !partial[0].Streaming {
		t.Fatalf("want the answer half-streamed when egress stops:\n%s", e.Slack.Transcript())
	}
	// The AI finishes its answer while egress is down.
	bustest.Eventually(t, 20*time.Second, func() bool {
		return len(demo.OfType(e.Watch.Turn(q.ID), schemas.TypeOutStreamStop)) > 0
	}, "the AI did not finish streaming")
	if err := e.StartService(ctx, "egress"); err != nil {
		t.Fatal(err)
	}
	settle(t, e, q, demo.Answered)

	// The start carries the first batch, appends the next, the stop the rest.
	var want strings.Builder
	for _, typ := range []string{schemas.TypeOutStreamStart, schemas.TypeOutStreamAppend, schemas.TypeOutStreamStop} {
		for _, env := range demo.OfType(e.Watch.Turn(q.ID), typ) {
			d := ok(schemas.DecodeData[schemas.OutStream](env)).get(t)
			want.WriteString(d.Markdown)
		}
	}
	got := botThread(e, channel, q.ThreadTS)
	if len(got) != 1 || got[0].Streaming {
		t.Fatalf("want one finished answer:\n%s", e.Slack.Transcript())
	}
	if got[0].Text != want.String() || !strings.Contains(got[0].Text, "Azure Interior") {
		t.Fatalf("answer in Slack:\n%q\nstreamed by the AI:\n%q", got[0].Text, want.String())
	}
	if n := len(e.Slack.CallsTo("chat.startStream")); n != 1 {
		t.Fatalf("chat.startStream called %d times", n)
	}
}

// Every message a turn causes, in every stream, carries the turn's
// correlation id — from ingress through the AI, the ERP and egress to the
// delivery records — and chains back to the ingress event by causation id.
func TestCorrelationIDFromIngressToDelivery(t *testing.T) {
	e := start(t, demo.Options{})
	ctx := context.Background()
	since := time.Now().Add(-time.Second)
	q := ok(e.Mention(ctx, channel, alice, demo.QuestionOrder, "")).get(t)
	settle(t, e, q, demo.Answered)
	l := ok(e.Reply(ctx, channel, alice, demo.QuestionLead, q.ThreadTS)).get(t)
	settle(t, e, l, demo.Answered)
	msg, confirm, found := e.FindButton(channel, q.ThreadTS, ai.ActionConfirm)
	if !found {
		t.Fatal("no proposal")
	}
	c := ok(e.Click(ctx, alice, msg, confirm)).get(t)
	settle(t, e, c, demo.ERPDone)

	msgs := streamed(t, e, since)
	byID := map[string]storedEnv{}
	for _, m := range msgs {
		byID[m.Env.ID] = m
		if h := m.Header.Get(schemas.HeaderCorrelationID); h != m.Env.CorrelationID {
			t.Errorf("%s %s: header correlation %q, envelope %q", m.Stream, m.Env.Type, h, m.Env.CorrelationID)
		}
	}
	// root walks causation ids up to the message that started the chain.
	root := func(m storedEnv) string {
		for range 50 {
			if m.Env.CausationID == "" {
				return m.Env.ID
			}
			p, ok := byID[m.Env.CausationID]
			if !ok {
				return "missing parent " + m.Env.CausationID
			}
			m = p
		}
		return "causation loop"
	}
	for _, tc := range []struct {
		turn  *demo.Turn
		types []string
	}{
		// A quick answer: no thread status (see MARIA_AI_STATUS_DELAY), the
		// whole text on the stream's start.
		{q, []string{schemas.TypeSlackMention, schemas.TypeOutStreamStart, schemas.TypeOutStreamStop, schemas.TypeDelivered}},
		{l, []string{schemas.TypeSlackMessage, schemas.TypeOutPost, schemas.TypeOutStreamStop, schemas.TypeDelivered}},
		{c, []string{schemas.TypeSlackAction, schemas.TypeERPCommand, schemas.TypeERPResult, schemas.TypeAudit, schemas.TypeOutUpdate, schemas.TypeDelivered}},
	} {
		types := map[string]int{}
		sources := map[string]bool{}
		// The chain starts at the event ingress published (its id is the
		// Slack event's); the correlation id is the turn's (a turn id).
		event := tc.turn.Delivery.ID
		if !schemas.IsTurnID(tc.turn.ID) {
			t.Errorf("turn %q: correlation id %q is not a turn id", tc.turn.Text, tc.turn.ID)
		}
		for _, m := range msgs {
			r := root(m)
			switch {
			case m.Env.CorrelationID == tc.turn.ID && r != event:
				t.Errorf("%s %s (%s) carries turn %s but chains to %s, not to %s", m.Stream, m.Env.Type, m.Env.ID, tc.turn.ID, r, event)
			case m.Env.CorrelationID != tc.turn.ID && r == event:
				t.Errorf("%s %s (%s) descends from event %s but carries correlation %s, not %s", m.Stream, m.Env.Type, m.Env.ID, event, m.Env.CorrelationID, tc.turn.ID)
			case r == event:
				types[m.Env.Type]++
				sources[m.Env.Source] = true
			}
		}
		for _, typ := range tc.types {
			if types[typ] == 0 {
				t.Errorf("turn %q: no %s carries its correlation id (have %v)", tc.turn.Text, typ, types)
			}
		}
		for _, src := range []string{"ingress", "egress"} {
			if !sources[src] {
				t.Errorf("turn %q: nothing from %s (sources %v)", tc.turn.Text, src, sources)
			}
		}
		// Every command egress executed for the turn has its delivery record.
		delivered := map[string]bool{}
		for _, m := range msgs {
			if m.Env.CorrelationID == tc.turn.ID && m.Env.Type == schemas.TypeDelivered {
				d := ok(schemas.DecodeData[schemas.Delivered](m.Env)).get(t)
				delivered[d.CommandID] = true
			}
		}
		for _, m := range msgs {
			if m.Env.CorrelationID == tc.turn.ID && m.Stream == schemas.StreamOut && !delivered[m.Env.ID] {
				t.Errorf("turn %q: %s %s never delivered", tc.turn.Text, m.Env.Type, m.Env.ID)
			}
		}
	}
}
