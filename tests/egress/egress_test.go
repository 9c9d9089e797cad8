// Package egress_test is the acceptance suite of issue 4: egress against
// the Slack simulator and a real embedded nats-server.
package egress_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/egress"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats.go"
)

const (
	team  = slacksim.TeamID
	token = "xoxb-test-egress"
)

type rig struct {
	t         *testing.T
	b         *bus.Bus
	sim       *slacksim.Sim
	delivered func() []*nats.Msg
	dlq       func() []*nats.Msg
}

func newRig(t *testing.T, tune func(*egress.Options)) *rig {
	t.Helper()
	r := newBareRig(t)
	r.startReplica(r.b, tune)
	return r
}

// newBareRig is the simulator and the server, with no egress replica yet.
func newBareRig(t *testing.T) *rig {
	t.Helper()
	sim := slacksim.New(token)
	t.Cleanup(sim.Close)
	b := bustest.New(t)
	return &rig{t: t, b: b, sim: sim,
		delivered: bustest.Subscribe(t, b, schemas.SubjectDeliveredAll),
		// every partition's consumer dead-letters on its own subject
		dlq: bustest.Subscribe(t, b, "maria.dlq."+schemas.StreamOut+".>")}
}

// startReplica runs one egress replica on b until the test ends (or until
// the returned stop is called: a graceful stop).
func (r *rig) startReplica(b *bus.Bus, tune func(*egress.Options)) (*egress.Egress, func() error) {
	t := r.t
	t.Helper()
	cfg := egress.DefaultConfig(token, r.sim.URL())
	cfg.CallTimeout = time.Second
	cfg.IdempotencyStale = 1500 * time.Millisecond
	cfg.StreamFlush = 200 * time.Millisecond
	cfg.MaxAttempts = 5
	cfg.VerifyAuth = true
	o := egress.Options{Config: cfg}
	if tune != nil {
		tune(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := egress.New(ctx, b, o)
	if err != nil {
		cancel()
		t.Fatalf("egress.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil && b.Conn().IsConnected() {
			t.Errorf("egress run: %v", err)
		}
	})
	return e, stop
}

// publish sends a command for egress; thread is the envelope's thread.
func (r *rig) publish(channel, thread, typ string, data any) *schemas.Envelope {
	r.t.Helper()
	env, err := schemas.New("", typ, "test", data)
	if err != nil {
		r.t.Fatal(err)
	}
	env.Team, env.Channel, env.ThreadTS, env.User = team, channel, thread, "U0ASKER"
	if _, err := r.b.Publish(context.Background(), schemas.OutSubject(team, channel), env); err != nil {
		r.t.Fatalf("publish: %v", err)
	}
	return env
}

// turn is one conversation turn: commands published with inTurn share its
// correlation id, which scopes refs (as the AI processor's children do).
func (r *rig) turn(channel, thread string) *schemas.Envelope {
	parent, err := schemas.New("", schemas.TypeSlackMention, "test", schemas.SlackMessage{TS: thread, Text: "q"})
	if err != nil {
		r.t.Fatal(err)
	}
	parent.Team, parent.Channel, parent.ThreadTS, parent.User = team, channel, thread, "U0ASKER"
	return parent
}

var childKey atomic.Int64

// inTurn publishes a command caused by parent; thread overrides the envelope thread.
func (r *rig) inTurn(parent *schemas.Envelope, thread, typ string, data any) *schemas.Envelope {
	r.t.Helper()
	env, err := parent.Child(fmt.Sprint(childKey.Add(1)), typ, "test", data)
	if err != nil {
		r.t.Fatal(err)
	}
	env.ThreadTS = thread
	if _, err := r.b.Publish(context.Background(), schemas.OutSubject(env.Team, env.Channel), env); err != nil {
		r.t.Fatalf("publish: %v", err)
	}
	return env
}

// deliveredFor returns the Delivered records of one command.
func (r *rig) deliveredFor(id string) []schemas.Delivered {
	var out []schemas.Delivered
	for _, m := range r.delivered() {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			r.t.Fatalf("delivered: %v", err)
		}
		d, err := schemas.DecodeData[schemas.Delivered](env)
		if err != nil {
			r.t.Fatal(err)
		}
		if d.CommandID == id {
			out = append(out, *d)
		}
	}
	return out
}

func (r *rig) waitDelivered(id string) schemas.Delivered {
	r.t.Helper()
	bustest.Eventually(r.t, 20*time.Second, func() bool { return len(r.deliveredFor(id)) > 0 }, "command %s not delivered", id)
	return r.deliveredFor(id)[0]
}

func texts(ms []slacksim.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// 3 threads × 20 messages, with 5xx and a 429 injected on the way: every
// thread's replies arrive complete, once each, in publication order.
func TestThreadsStayInOrder(t *testing.T) {
	r := newRig(t, func(o *egress.Options) { o.Config.Concurrency = 8 })
	threads := []struct{ ch, ts string }{
		{"C0ORDER1", r.sim.AddUserMessage("C0ORDER1", "U1", "question A", "")},
		{"C0ORDER1", r.sim.AddUserMessage("C0ORDER1", "U2", "question B", "")},
		{"C0ORDER2", r.sim.AddUserMessage("C0ORDER2", "U3", "question C", "")},
	}
	r.sim.FailN("chat.postMessage", 3, 503)
	r.sim.RateLimit("C0ORDER2", 1, time.Second)
	var last []*schemas.Envelope
	for n := range 20 {
		for i, th := range threads {
			env := r.publish(th.ch, th.ts, schemas.TypeOutPost, schemas.OutPost{Text: fmt.Sprintf("t%d-%02d", i, n), ThreadTS: th.ts})
			if n == 19 {
				last = append(last, env)
			}
		}
	}
	for _, env := range last {
		r.waitDelivered(env.ID)
	}
	for i, th := range threads {
		got := texts(r.sim.Thread(th.ch, th.ts))
		var want []string
		for n := range 20 {
			want = append(want, fmt.Sprintf("t%d-%02d", i, n))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("thread %d:\n got %v\nwant %v", i, got, want)
		}
	}
	if n := len(r.dlq()); n != 0 {
		t.Errorf("%d dead letters", n)
	}
}

// A 429 on one channel delays that channel only; its message still arrives,
// once, and the channel's thread keeps its order.
func TestRateLimitDelaysOnlyThatChannel(t *testing.T) {
	r := newRig(t, nil)
	slowTS := r.sim.AddUserMessage("C0LIMITED", "U1", "hi", "")
	fastTS := r.sim.AddUserMessage("C0FREE", "U1", "hi", "")
	r.sim.RateLimit("C0LIMITED", 1, 3*time.Second)

	var limited []*schemas.Envelope
	for n := range 3 {
		limited = append(limited, r.publish("C0LIMITED", slowTS, schemas.TypeOutPost, schemas.OutPost{Text: fmt.Sprintf("slow-%d", n)}))
	}
	var free []*schemas.Envelope
	for n := range 5 {
		free = append(free, r.publish("C0FREE", fastTS, schemas.TypeOutPost, schemas.OutPost{Text: fmt.Sprintf("fast-%d", n)}))
	}
	for _, env := range free {
		r.waitDelivered(env.ID)
	}
	// The free channel finished while the limited one is still waiting out Retry-After.
	if got := r.sim.BotMessages("C0LIMITED"); len(got) != 0 {
		t.Fatalf("rate-limited channel got %v before its Retry-After", texts(got))
	}
	for _, env := range limited {
		r.waitDelivered(env.ID)
	}
	if got := strings.Join(texts(r.sim.Thread("C0LIMITED", slowTS)), ","); got != "slow-0,slow-1,slow-2" {
		t.Errorf("limited thread = %s", got)
	}
	var ok, limitedCalls int
	for _, c := range r.sim.CallsTo("chat.postMessage") {
		if c.Channel != "C0LIMITED" {
			continue
		}
		if c.Status == 429 {
			limitedCalls++
		} else if c.OK() {
			ok++
		}
	}
	if limitedCalls != 1 || ok != 3 {
		t.Errorf("C0LIMITED: %d answers 429, %d posts ok; want 1 and 3", limitedCalls, ok)
	}
	for _, env := range limited {
		if n := len(r.deliveredFor(env.ID)); n != 1 {
			t.Errorf("command %s delivered %d times", env.ID, n)
		}
	}
}

// crashOnce makes the hook fail the first time it sees id.
func crashOnce(id *atomic.Value, fired *atomic.Bool) func(*schemas.Envelope) error {
	return func(env *schemas.Envelope) error {
		if want, _ := id.Load().(string); want == env.ID && fired.CompareAndSwap(false, true) {
			return errors.New("simulated crash")
		}
		return nil
	}
}

// The replica dies after Slack posted, before the delivery was recorded:
// the claim goes stale, the redelivery reconciles against the channel
// history (by the command id in the message metadata) and does not post again.
func TestCrashAfterSlackCallPostsOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		thread bool
	}{{"top-level", false}, {"in-thread", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var id atomic.Value
			var fired atomic.Bool
			r := newRig(t, func(o *egress.Options) { o.Hooks.AfterEffect = crashOnce(&id, &fired) })
			th := ""
			if tc.thread {
				th = r.sim.AddUserMessage("C0CRASH", "U1", "q", "")
			}
			env, _ := schemas.New("", schemas.TypeOutPost, "test", schemas.OutPost{Text: "exactly once", ThreadTS: th})
			env.Team, env.Channel = team, "C0CRASH"
			id.Store(env.ID)
			if _, err := r.b.Publish(context.Background(), schemas.OutSubject(team, "C0CRASH"), env); err != nil {
				t.Fatal(err)
			}
			d := r.waitDelivered(env.ID)
			if !fired.Load() {
				t.Fatal("crash hook never fired")
			}
			got := r.sim.BotMessages("C0CRASH")
			if len(got) != 1 || got[0].Text != "exactly once" || got[0].TS != d.TS {
				t.Fatalf("bot messages = %+v, delivered ts %s", got, d.TS)
			}
			method := "conversations.history"
			if tc.thread {
				method = "conversations.replies"
			}
			if len(r.sim.CallsTo(method)) == 0 {
				t.Errorf("no %s call: the redelivery did not reconcile", method)
			}
		})
	}
}

// The replica dies after recording the delivery, before the ack: the
// redelivery finds the record and neither posts nor updates again.
func TestCrashBeforeAckPostsOnce(t *testing.T) {
	var id atomic.Value
	var fired atomic.Bool
	r := newRig(t, func(o *egress.Options) { o.Hooks.AfterRecord = crashOnce(&id, &fired) })
	env, _ := schemas.New("", schemas.TypeOutPost, "test", schemas.OutPost{Text: "once"})
	env.Team, env.Channel = team, "C0ACK"
	id.Store(env.ID)
	if _, err := r.b.Publish(context.Background(), schemas.OutSubject(team, "C0ACK"), env); err != nil {
		t.Fatal(err)
	}
	r.waitDelivered(env.ID)
	bustest.Eventually(t, 10*time.Second, fired.Load, "hook never fired")
	// A later command in the same channel proves the redelivery was handled.
	next := r.publish("C0ACK", "", schemas.TypeOutPost, schemas.OutPost{Text: "after"})
	r.waitDelivered(next.ID)
	if got := texts(r.sim.BotMessages("C0ACK")); strings.Join(got, ",") != "once,after" {
		t.Fatalf("messages = %v", got)
	}
	if n := len(r.sim.CallsTo("chat.postMessage")); n != 2 {
		t.Errorf("%d chat.postMessage calls, want 2", n)
	}
}

// A 5xx is ambiguous (Slack may have posted): the retry reconciles first.
// Here Slack did not post, so the retry posts — once.
func TestServerErrorRetriesWithoutDuplicate(t *testing.T) {
	r := newRig(t, nil)
	r.sim.FailN("chat.postMessage", 2, 500)
	env := r.publish("C05XX", "", schemas.TypeOutPost, schemas.OutPost{Text: "after two 500s"})
	r.waitDelivered(env.ID)
	if got := texts(r.sim.BotMessages("C05XX")); len(got) != 1 {
		t.Fatalf("messages = %v", got)
	}
	if len(r.sim.CallsTo("conversations.history")) == 0 {
		t.Error("retry after a 500 did not reconcile")
	}
}

// Permanent Slack errors and invalid commands end in the DLQ with the reason.
func TestPermanentErrorsDeadLetter(t *testing.T) {
	r := newRig(t, nil)
	r.sim.SetChannelError("C0GONE", "channel_not_found")
	gone := r.publish("C0GONE", "", schemas.TypeOutPost, schemas.OutPost{Text: "hello?"})
	long := r.publish("C0LONG", "", schemas.TypeOutPost, schemas.OutPost{Text: strings.Repeat("x", 40001)})
	empty := r.publish("C0EMPTY", "", schemas.TypeOutPost, schemas.OutPost{})
	unknownRef := r.publish("C0EMPTY", "", schemas.TypeOutUpdate, schemas.OutUpdate{TS: "1.000001", Text: "edit"})
	want := map[string]string{gone.ID: "channel_not_found", long.ID: "msg_too_long", empty.ID: "neither text nor blocks", unknownRef.ID: "message_not_found"}
	bustest.Eventually(t, 20*time.Second, func() bool { return len(r.dlq()) >= len(want) }, "dead letters: %d", len(r.dlq()))
	for _, m := range r.dlq() {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		reason := m.Header.Get(schemas.HeaderDLQReason)
		if w, ok := want[env.ID]; !ok || !strings.Contains(reason, w) {
			t.Errorf("dead letter %s (%s): reason %q, want it to mention %q", env.ID, env.Type, reason, w)
		}
		delete(want, env.ID)
	}
	if len(want) != 0 {
		t.Errorf("not dead-lettered: %v", want)
	}
	for _, id := range []string{gone.ID, long.ID, empty.ID, unknownRef.ID} {
		if n := len(r.deliveredFor(id)); n != 0 {
			t.Errorf("dead command %s reported delivered", id)
		}
	}
}

// Refs: an update by ref waits for its post (which is failing for a while)
// and then edits that message — never another one.
func TestRefResolvesForUpdate(t *testing.T) {
	r := newRig(t, nil)
	q := r.sim.AddUserMessage("C0REF", "U1", "q", "")
	r.sim.FailN("chat.postMessage", 2, "internal_error")
	turn := r.turn("C0REF", q)
	post := r.inTurn(turn, q, schemas.TypeOutPost, schemas.OutPost{Text: "thinking…", ThreadTS: q, Ref: "answer"})
	// Published with no envelope thread: another lane, so it really has to wait for the ref.
	upd := r.inTurn(turn, "", schemas.TypeOutUpdate, schemas.OutUpdate{Ref: "answer", Text: "42"})
	pd := r.waitDelivered(post.ID)
	ud := r.waitDelivered(upd.ID)
	if ud.TS != pd.TS || pd.Ref != "answer" {
		t.Fatalf("update went to %s, post is %s (ref %q)", ud.TS, pd.TS, pd.Ref)
	}
	m, ok := r.sim.Message("C0REF", pd.TS)
	if !ok || m.Text != "42" || m.Edits != 1 {
		t.Fatalf("message = %+v", m)
	}
	if n := len(r.sim.BotMessages("C0REF")); n != 1 {
		t.Errorf("%d bot messages", n)
	}
	// Refs are scoped to the conversation turn: another turn's "answer" is not this one.
	other := r.publish("C0REF", "", schemas.TypeOutUpdate, schemas.OutUpdate{Ref: "answer", Text: "hijack"})
	bustest.Eventually(t, 30*time.Second, func() bool { return len(r.dlq()) == 1 }, "unresolvable ref not dead-lettered")
	if env, _ := schemas.Decode(r.dlq()[0].Data); env.ID != other.ID || !strings.Contains(r.dlq()[0].Header.Get(schemas.HeaderDLQReason), "not resolved") {
		t.Errorf("dead letter %s: %s", env.ID, r.dlq()[0].Header.Get(schemas.HeaderDLQReason))
	}
	if m, _ := r.sim.Message("C0REF", pd.TS); m.Text != "42" {
		t.Errorf("other turn's update changed the message to %q", m.Text)
	}
}

// streamTurn publishes start, appends and stop under one correlation id.
func (r *rig) streamTurn(channel, thread string, chunks []string) []*schemas.Envelope {
	parent := r.turn(channel, thread)
	var out []*schemas.Envelope
	add := func(key, typ string, data any) {
		env, err := parent.Child(key, typ, "test", data)
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := r.b.Publish(context.Background(), schemas.OutSubject(team, channel), env); err != nil {
			r.t.Fatal(err)
		}
		out = append(out, env)
	}
	add("start", schemas.TypeOutStreamStart, schemas.OutStream{Ref: "s", ThreadTS: thread, Markdown: chunks[0]})
	for i, c := range chunks[1:] {
		add(fmt.Sprint("append-", i), schemas.TypeOutStreamAppend, schemas.OutStream{Ref: "s", Markdown: c})
	}
	add("stop", schemas.TypeOutStreamStop, schemas.OutStream{Ref: "s"})
	return out
}

// Native chat streaming in a DM; post-then-update where streaming is unavailable.
func TestStreamsResolveRefs(t *testing.T) {
	r := newRig(t, nil)
	chunks := []string{"The order ", "S00042 ", "ships ", "*tomorrow*."}
	want := strings.Join(chunks, "")

	dm := r.sim.AddUserMessage("D0DM", "U0ASKER", "status of S00042?", "")
	cmds := r.streamTurn("D0DM", dm, chunks)
	stop := r.waitDelivered(cmds[len(cmds)-1].ID)
	m, ok := r.sim.Message("D0DM", stop.TS)
	if !ok || !m.Stream || m.Streaming || m.Text != want || m.ThreadTS != dm {
		t.Fatalf("native stream message = %+v", m)
	}
	if n := len(r.sim.CallsTo("chat.appendStream")); n != len(chunks)-1 {
		t.Errorf("%d appends, want %d", n, len(chunks)-1)
	}

	r.sim.DisableStreaming("C0NOSTREAM", "")
	q := r.sim.AddUserMessage("C0NOSTREAM", "U0ASKER", "status?", "")
	cmds = r.streamTurn("C0NOSTREAM", q, chunks)
	stop = r.waitDelivered(cmds[len(cmds)-1].ID)
	bot := r.sim.BotMessages("C0NOSTREAM")
	if len(bot) != 1 || bot[0].TS != stop.TS || bot[0].Text != want || bot[0].ThreadTS != q {
		t.Fatalf("fallback messages = %+v", bot)
	}
	if n := len(r.sim.CallsTo("chat.update")); n < 1 || n > len(chunks) {
		t.Errorf("%d chat.update calls for %d chunks", n, len(chunks))
	}
}

// Every command type against the simulator, with its Delivered record.
func TestAllCommandTypes(t *testing.T) {
	r := newRig(t, nil)
	q := r.sim.AddUserMessage("C0ALL", "U0ASKER", "hello", "")
	respURL := r.sim.ResponseURL()
	cmds := []*schemas.Envelope{
		r.publish("C0ALL", q, schemas.TypeOutStatus, schemas.OutStatus{ThreadTS: q, Status: "is thinking…"}),
		r.publish("C0ALL", q, schemas.TypeOutTitle, schemas.OutTitle{ThreadTS: q, Title: "Orders"}),
		r.publish("C0ALL", q, schemas.TypeOutPrompts, schemas.OutPrompts{ThreadTS: q, Title: "Try", Prompts: []schemas.Prompt{{Title: "Stock", Message: "How many desks?"}}}),
		r.publish("C0ALL", q, schemas.TypeOutPost, schemas.OutPost{ThreadTS: q, Text: "Here", Blocks: []any{
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Here*"}},
			map[string]any{"type": "actions", "elements": []any{map[string]any{"type": "button", "action_id": "confirm", "text": map[string]any{"type": "plain_text", "text": "Confirm"}, "value": "p1"}}},
		}}),
		r.publish("C0ALL", q, schemas.TypeOutReact, schemas.OutReact{TS: q, Name: ":eyes:"}),
		r.publish("C0ALL", q, schemas.TypeOutEphemeral, schemas.OutEphemeral{Text: "only you"}),
		r.publish("C0ALL", q, schemas.TypeOutUpload, schemas.OutUpload{Filename: "report.csv", Content: []byte("a,b\n1,2\n"), Comment: "the report"}),
		r.publish("", "", schemas.TypeOutRespond, schemas.OutRespond{ResponseURL: respURL, Text: "done", ResponseType: "in_channel"}),
		r.publish("C0ALL", q, schemas.TypeOutStatus, schemas.OutStatus{ThreadTS: q, Status: ""}),
	}
	for _, c := range cmds {
		r.waitDelivered(c.ID)
	}
	a := r.sim.Assistant("C0ALL", q)
	if a.Title != "Orders" || a.Status != "" || len(a.Prompts) != 1 || a.Prompts[0].Message != "How many desks?" {
		t.Errorf("assistant thread = %+v", a)
	}
	if m, _ := r.sim.Message("C0ALL", q); len(m.Reactions) != 1 || m.Reactions[0] != "eyes" {
		t.Errorf("reactions = %v", m.Reactions)
	}
	thread := r.sim.Thread("C0ALL", q)
	if len(thread) != 2 || !strings.Contains(string(thread[0].Blocks), `"action_id":"confirm"`) || thread[0].Metadata == nil ||
		thread[0].Metadata.EventPayload["command_id"] != cmds[3].ID {
		t.Fatalf("thread = %+v", thread)
	}
	if len(thread[1].Files) != 1 || thread[1].Text != "the report" {
		t.Errorf("upload message = %+v", thread[1])
	}
	if _, content, ok := r.sim.File(thread[1].Files[0].ID); !ok || string(content) != "a,b\n1,2\n" {
		t.Errorf("uploaded content %q", content)
	}
	if e := r.sim.Ephemerals(); len(e) != 1 || e[0].User != "U0ASKER" || e[0].ThreadTS != q {
		t.Errorf("ephemerals = %+v", e)
	}
	if rs := r.sim.Responses(); len(rs) != 1 || rs[0].Text != "done" || rs[0].ResponseType != "in_channel" {
		t.Errorf("responses = %+v", rs)
	}
	// A redelivered reaction would be already_reacted: still one reaction, no DLQ.
	if n := len(r.dlq()); n != 0 {
		t.Errorf("%d dead letters", n)
	}
	t.Log("\n" + r.sim.Transcript())
}

// Dry run: nothing reaches Slack, every command is still "delivered" (so a
// replayed trace ends somewhere) and printed.
func TestDryRunPostsNothing(t *testing.T) {
	var out syncBuffer
	r := newRig(t, func(o *egress.Options) {
		o.Config.DryRun, o.Config.Token = true, ""
		o.DryRunOut = &out
	})
	turn := r.turn("C0DRY", "")
	post := r.inTurn(turn, "", schemas.TypeOutPost, schemas.OutPost{Text: "would be posted", Ref: "r"})
	upd := r.inTurn(turn, "", schemas.TypeOutUpdate, schemas.OutUpdate{Ref: "r", Text: "would be edited"})
	r.waitDelivered(post.ID)
	r.waitDelivered(upd.ID)
	if n := len(r.sim.Calls()); n != 0 {
		t.Fatalf("dry run made %d Slack calls", n)
	}
	s := out.String()
	if !strings.Contains(s, "chat.postMessage") || !strings.Contains(s, "would be posted") || !strings.Contains(s, "chat.update") {
		t.Errorf("dry-run output:\n%s", s)
	}
}

// A bad token stops egress at start instead of dead-lettering everything.
func TestInvalidTokenRefusedAtStart(t *testing.T) {
	sim := slacksim.New(token)
	defer sim.Close()
	b := bustest.New(t)
	cfg := egress.DefaultConfig("xoxb-wrong", sim.URL())
	cfg.VerifyAuth = true
	_, err := egress.New(context.Background(), b, egress.Options{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), "xoxb-wrong") {
		t.Fatalf("err = %v", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
