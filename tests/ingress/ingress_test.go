// Package ingress_test drives Maria's ingress like Slack does: signed HTTP
// deliveries from tests/sim/slackevents and a local Socket Mode server,
// against a real embedded JetStream.
package ingress_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/ingress"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/promtest"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const secret = "e2e-signing-secret-0123456789abcdef"

func config() ingress.Config {
	return ingress.Config{SigningSecret: secret, APIURL: ingress.DefaultAPIURL, MaxBody: 256 << 10,
		PublishTimeout: 500 * time.Millisecond, SocketWorkers: 4}
}

// setup starts ingress' HTTP handler on a loopback server over a fresh bus.
func setup(t *testing.T, cfg ingress.Config) (*slackevents.Client, *bus.Bus) {
	t.Helper()
	b := bustest.New(t)
	in := ingress.New(cfg, b, bustest.Logger(t), nil)
	mux := http.NewServeMux()
	in.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &slackevents.Client{BaseURL: srv.URL, SigningSecret: secret}, b
}

// byID indexes collected messages by Nats-Msg-Id.
func byID(msgs []*nats.Msg) map[string][]*nats.Msg {
	out := map[string][]*nats.Msg{}
	for _, m := range msgs {
		id := m.Header.Get(schemas.HeaderMsgID)
		out[id] = append(out[id], m)
	}
	return out
}

func ok(t *testing.T, d slackevents.Delivery, err error) slackevents.Delivery {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != http.StatusOK {
		t.Fatalf("status %d: %s", d.Status, d.Body)
	}
	return d
}

func TestEveryEventTypeLandsOnItsSubject(t *testing.T) {
	c, b := setup(t, config())
	all := bustest.Subscribe(t, b, schemas.SubjectInAll)
	ctx := context.Background()
	const team = slackevents.DefaultTeam

	v, err := c.URLVerification(ctx, "challenge-abc")
	if err != nil || v.Status != 200 || v.Body != "challenge-abc" {
		t.Fatalf("url_verification: %+v %v", v, err)
	}

	type expect struct {
		name, id, turn, subject, typ, channel, user, thread string
		check                                               func(*schemas.Envelope) error
	}
	var exps []expect
	add := func(name string, d slackevents.Delivery, subject, typ, channel, user, thread string, check func(*schemas.Envelope) error) {
		exps = append(exps, expect{name, d.ID, d.Turn, subject, typ, channel, user, thread, check})
	}
	msgCheck := func(want func(*schemas.SlackMessage) bool) func(*schemas.Envelope) error {
		return func(e *schemas.Envelope) error {
			m, err := schemas.DecodeData[schemas.SlackMessage](e)
			if err != nil {
				return err
			}
			if !want(m) {
				return errors.New("unexpected payload " + string(e.Data))
			}
			return nil
		}
	}

	m := okf(t)(c.Mention(ctx, "C0SALES", "U0ALICE", "What is the status of S00042?", ""))
	add("mention", m, "maria.in.mention."+team+".C0SALES", schemas.TypeSlackMention, "C0SALES", "U0ALICE", m.TS,
		msgCheck(func(p *schemas.SlackMessage) bool { return p.Mentioned && strings.HasSuffix(p.Text, "S00042?") }))
	r := okf(t)(c.Message(ctx, "C0SALES", "U0ALICE", "and the invoices?", m.TS))
	add("thread reply", r, "maria.in.message."+team+".C0SALES", schemas.TypeSlackMessage, "C0SALES", "U0ALICE", m.TS,
		msgCheck(func(p *schemas.SlackMessage) bool {
			return p.ThreadTS == m.TS && !p.Mentioned && p.ChannelType == "channel"
		}))
	dm := okf(t)(c.DM(ctx, "D0ALICE", "U0ALICE", "How many Desk Combination in stock?", ""))
	add("dm", dm, "maria.in.message."+team+".D0ALICE", schemas.TypeSlackMessage, "D0ALICE", "U0ALICE", dm.TS,
		msgCheck(func(p *schemas.SlackMessage) bool { return p.ChannelType == "im" }))
	ed := okf(t)(c.Edit(ctx, "C0SALES", "U0ALICE", r.TS, "and the invoices?", "and the unpaid invoices?", m.TS))
	add("edit", ed, "maria.in.message."+team+".C0SALES", schemas.TypeSlackMessage, "C0SALES", "U0ALICE", m.TS,
		msgCheck(func(p *schemas.SlackMessage) bool {
			return p.Subtype == "message_changed" && p.PreviousTS == r.TS && p.Text == "and the unpaid invoices?"
		}))
	del := okf(t)(c.Delete(ctx, "C0SALES", "U0ALICE", r.TS, "and the unpaid invoices?", m.TS))
	add("delete", del, "maria.in.message."+team+".C0SALES", schemas.TypeSlackMessage, "C0SALES", "U0ALICE", m.TS,
		msgCheck(func(p *schemas.SlackMessage) bool { return p.Subtype == "message_deleted" && p.PreviousTS == r.TS }))
	withFile := okf(t)(c.MessageWithFiles(ctx, "C0DOCS", "channel", "U0BOB", c.MentionText("summarize"), "",
		slackevents.File{ID: "F0INVOICE", Name: "invoice.pdf", Mimetype: "application/pdf", Filetype: "pdf", Size: 1234}))
	add("message with file", withFile, "maria.in.message."+team+".C0DOCS", schemas.TypeSlackMessage, "C0DOCS", "U0BOB", withFile.TS,
		msgCheck(func(p *schemas.SlackMessage) bool {
			return len(p.Files) == 1 && p.Files[0].ID == "F0INVOICE" && p.Mentioned
		}))
	fileCheck := func(id, name string) func(*schemas.Envelope) error {
		return func(e *schemas.Envelope) error {
			f, err := schemas.DecodeData[schemas.SlackFileShared](e)
			if err != nil {
				return err
			}
			if f.File.ID != id || f.File.Name != name {
				return errors.New("unexpected file payload " + string(e.Data))
			}
			return nil
		}
	}
	// One turn: the file shared with a question carries its turn, caused by the message.
	add("file of the message", slackevents.Delivery{ID: schemas.SlackFileEventID(team, "C0DOCS", "F0INVOICE"), Turn: withFile.Turn},
		"maria.in.file."+team+".C0DOCS", schemas.TypeSlackFile, "C0DOCS", "U0BOB", withFile.TS, func(e *schemas.Envelope) error {
			if e.CausationID != withFile.ID {
				return errors.New("file of the message: causation " + e.CausationID + ", want the message " + withFile.ID)
			}
			return fileCheck("F0INVOICE", "invoice.pdf")(e)
		})
	// file_shared in a conversation is acknowledged and not published: the
	// message carrying the file announces it (tests/ops TestFileSharedWithAQuestionIsOneTurnInEitherOrder).
	fs := okf(t)(c.FileShared(ctx, "C0DOCS", "U0BOB", "F0PHOTO"))
	re := okf(t)(c.Reaction(ctx, "C0SALES", "U0BOB", "white_check_mark", m.TS, "U0ALICE"))
	add("reaction", re, "maria.in.reaction."+team+".C0SALES", schemas.TypeSlackReaction, "C0SALES", "U0BOB", "", nil)
	as := okf(t)(c.AssistantThreadStarted(ctx, "D0PANE", "U0ALICE", "1729999327.187299", "C0SALES"))
	add("assistant started", as, "maria.in.assistant."+team+".D0PANE", schemas.TypeSlackAssistant, "D0PANE", "U0ALICE", "1729999327.187299", nil)
	ac := okf(t)(c.AssistantContextChanged(ctx, "D0PANE", "U0ALICE", "1729999327.187299", "C0DOCS"))
	add("assistant context", ac, "maria.in.assistant."+team+".D0PANE", schemas.TypeSlackAssistant, "D0PANE", "U0ALICE", "1729999327.187299",
		func(e *schemas.Envelope) error {
			a, err := schemas.DecodeData[schemas.SlackAssistant](e)
			if err == nil && (a.Event != "assistant_thread_context_changed" || a.ContextChannel != "C0DOCS") {
				err = errors.New("unexpected " + string(e.Data))
			}
			return err
		})
	cmd := okf(t)(c.Command(ctx, "C0SALES", "U0ALICE", "/maria", "unpaid invoices for Azure Interior?"))
	add("command", cmd, "maria.in.command."+team+".C0SALES", schemas.TypeSlackCommand, "C0SALES", "U0ALICE", "",
		func(e *schemas.Envelope) error {
			sc, err := schemas.DecodeData[schemas.SlackCommand](e)
			if err == nil && (sc.Command != "/maria" || sc.Text != "unpaid invoices for Azure Interior?" || sc.ResponseURL == "") {
				err = errors.New("unexpected " + string(e.Data))
			}
			return err
		})
	click := okf(t)(c.Click(ctx, "C0SALES", "U0ALICE", "1700000000.000500", m.TS, "erp_confirm", "proposal-7"))
	add("click", click, "maria.in.action."+team+".C0SALES", schemas.TypeSlackAction, "C0SALES", "U0ALICE", m.TS,
		func(e *schemas.Envelope) error {
			a, err := schemas.DecodeData[schemas.SlackAction](e)
			if err == nil && (a.ActionID != "erp_confirm" || a.Value != "proposal-7" || a.MessageTS != "1700000000.000500") {
				err = errors.New("unexpected " + string(e.Data))
			}
			return err
		})
	// Maria's own message is acknowledged and not published.
	own := slackevents.MessageEvent(team, "C0SALES", "channel", slackevents.DefaultBotUserID, "Here you go", slackevents.NewTS(), m.TS)
	okf(t)(c.Event(ctx, own))

	bustest.Eventually(t, 5*time.Second, func() bool { return len(all()) >= len(exps) }, "%d events", len(exps))
	got := byID(all())
	for _, e := range exps {
		ms := got[e.id]
		if len(ms) != 1 {
			t.Errorf("%s: %d messages with id %s", e.name, len(ms), e.id)
			continue
		}
		env, err := schemas.Decode(ms[0].Data)
		if err != nil {
			t.Errorf("%s: %v", e.name, err)
			continue
		}
		if ms[0].Subject != e.subject || env.Type != e.typ || env.Team != team || env.Channel != e.channel || env.User != e.user ||
			env.ThreadTS != e.thread || env.Source != ingress.Source || env.ID != e.id || env.CorrelationID != e.turn || !schemas.IsTurnID(env.CorrelationID) {
			t.Errorf("%s: subject %s envelope %+v\n want subject %s type %s channel %s user %s thread %s turn %s", e.name, ms[0].Subject, env,
				e.subject, e.typ, e.channel, e.user, e.thread, e.turn)
		}
		if e.check != nil {
			if err := e.check(env); err != nil {
				t.Errorf("%s: %v", e.name, err)
			}
		}
	}
	if len(got[fs.ID]) != 0 {
		t.Errorf("file_shared published %d events", len(got[fs.ID]))
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != uint64(len(exps)) {
		t.Errorf("MARIA_IN holds %d messages, want %d (own message must not be stored)", n, len(exps))
	}
}

// ok adapts a (Delivery, error) pair for inline use: okf(t)(c.Mention(...)).
func okf(t *testing.T) func(slackevents.Delivery, error) slackevents.Delivery {
	return func(d slackevents.Delivery, err error) slackevents.Delivery { t.Helper(); return ok(t, d, err) }
}

func TestBadRequestsAreRejectedAndNothingPublished(t *testing.T) {
	c, b := setup(t, config())
	ctx := context.Background()
	body, _ := c.Callback(slackevents.AppMentionEvent(slackevents.DefaultTeam, "C1", "U1", "<@U0MARIABOT> hi", slackevents.NewTS(), ""))
	cases := []struct {
		name   string
		body   []byte
		opts   []slackevents.Option
		status int
	}{
		{"bad signature", body, []slackevents.Option{slackevents.WithSecret("wrong")}, 401},
		{"no signature", body, []slackevents.Option{slackevents.WithoutSignature()}, 401},
		{"stale timestamp", body, []slackevents.Option{slackevents.WithTimestamp(time.Now().Add(-10 * time.Minute))}, 401},
		{"oversized body", append(bytes.Repeat([]byte(" "), 300<<10), body...), nil, 413},
		{"malformed json", body[:len(body)/2], nil, 400},
		{"wrong content type", body, []slackevents.Option{slackevents.WithContentType("text/xml")}, 415},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, resp, err := c.PostEvent(ctx, tc.body, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if st != tc.status {
				t.Fatalf("status %d (%s), want %d", st, resp, tc.status)
			}
		})
	}
	// Forged commands and clicks are refused the same way.
	if d, err := c.Command(ctx, "C1", "U1", "/maria", "hi", slackevents.WithSecret("wrong")); err != nil || d.Status != 401 {
		t.Fatalf("forged command: %+v %v", d, err)
	}
	if d, err := c.Click(ctx, "C1", "U1", "1.2", "", "erp_confirm", "p", slackevents.WithTimestamp(time.Now().Add(-time.Hour))); err != nil || d.Status != 401 {
		t.Fatalf("stale click: %+v %v", d, err)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn) + bustest.StreamMsgs(t, b, schemas.StreamDLQ); n != 0 {
		t.Fatalf("%d messages stored after rejected requests", n)
	}
}

func TestRetriedEventIsStoredOnce(t *testing.T) {
	c, b := setup(t, config())
	ctx := context.Background()
	d := okf(t)(c.Mention(ctx, "C1", "U1", "hello", ""))
	for n := 1; n <= 3; n++ {
		st, body, err := c.PostEvent(ctx, d.Payload, slackevents.WithRetry(n, "http_timeout"))
		if err != nil || st != 200 {
			t.Fatalf("retry %d: %d %s %v", n, st, body, err)
		}
	}
	cmd := okf(t)(c.Command(ctx, "C1", "U1", "/maria", "hi"))
	if st, _, err := c.Post(ctx, schemas.SlackPathCommands, "application/x-www-form-urlencoded", cmd.Payload, slackevents.WithRetry(1, "timeout")); err != nil || st != 200 {
		t.Fatalf("command retry: %d %v", st, err)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 2 {
		t.Fatalf("MARIA_IN holds %d messages, want 2 (one mention, one command)", n)
	}
}

func TestBusDownAnswers5xx(t *testing.T) {
	c, b := setup(t, config())
	b.StopEmbeddedServer()
	d, err := c.Mention(context.Background(), "C1", "U1", "hello", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status < 500 {
		t.Fatalf("status %d with the bus down, want 5xx so Slack retries", d.Status)
	}
}

// flakyBus fails publishes while down is set, like a bus outage.
type flakyBus struct {
	*bus.Bus
	down atomic.Bool
}

func (f *flakyBus) Publish(ctx context.Context, subject string, env *schemas.Envelope) (*jetstream.PubAck, error) {
	if f.down.Load() {
		return nil, errors.New("nats: no responders available for request")
	}
	return f.Bus.Publish(ctx, subject, env)
}

// startSocket runs ingress in Socket Mode (cfg's HTTP secret dropped)
// against a local Socket Mode server, publishing to pub, until the test
// ends; ctx ends with it.
func startSocket(t *testing.T, cfg ingress.Config, pub ingress.Publisher) (*slackevents.SocketServer, *ingress.Ingress, context.Context) {
	t.Helper()
	const appToken = "xapp-1-A0MARIAAPP-1-secret"
	srv := slackevents.NewSocketServer(appToken)
	srv.PingInterval = 200 * time.Millisecond
	t.Cleanup(srv.Close)
	cfg.SigningSecret, cfg.AppToken, cfg.APIURL = "", appToken, srv.APIURL()
	in := ingress.New(cfg, pub, bustest.Logger(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("socket mode stopped with %v", err)
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	if err := srv.WaitConnected(wctx, 1); err != nil {
		t.Fatal(err)
	}
	return srv, in, ctx
}

// TestSocketModeRefusesForeignTeam: a foreign workspace's envelopes are
// acknowledged (else Slack redelivers them) and never published; a slash
// command's ack tells the user why.
func TestSocketModeRefusesForeignTeam(t *testing.T) {
	b := bustest.New(t)
	cfg := config()
	cfg.AllowedTeams = []string{slackevents.DefaultTeam}
	srv, _, ctx := startSocket(t, cfg, b)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	foreign := &slackevents.Client{Team: "T0INTRUDER"}
	labels := map[string]string{"reason": ingress.RefusedTeam}
	before := promtest.Counter(t, "maria_ingress_refused_total", labels)

	body, _ := foreign.Callback(slackevents.AppMentionEvent("T0INTRUDER", "C0SOCK", "U0EVE", "<@U0MARIABOT> hi", slackevents.NewTS(), ""))
	ev, err := srv.SendEvent(wctx, body)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := srv.SendCommand(wctx, slackevents.CommandForm("T0INTRUDER", slackevents.DefaultAppID, "C0SOCK", "U0EVE", "/maria", "stock?", slackevents.NewTriggerID()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(wctx, ev); err != nil {
		t.Fatal(err)
	}
	ack, err := srv.WaitAck(wctx, cmd)
	if err != nil || !strings.Contains(string(ack), "not enabled for this workspace") {
		t.Fatalf("slash command ack %s (%v), want the refusal", ack, err)
	}
	if got := promtest.Counter(t, "maria_ingress_refused_total", labels) - before; got != 2 {
		t.Errorf("refused{team} grew by %v, want 2", got)
	}

	// The allowed workspace passes; stored after the refused ones were acked.
	body, id := (&slackevents.Client{}).Callback(slackevents.AppMentionEvent(slackevents.DefaultTeam, "C0SOCK", "U0ALICE", "<@U0MARIABOT> hi", slackevents.NewTS(), ""))
	ok, err := srv.SendEvent(wctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(wctx, ok); err != nil {
		t.Fatal(err)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 1 {
		t.Fatalf("MARIA_IN holds %d messages, want only the allowed team's", n)
	}
	st, err := b.JetStream().Stream(wctx, schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := st.GetLastMsgForSubject(wctx, "maria.in.mention."+slackevents.DefaultTeam+".C0SOCK"); err != nil || raw.Header.Get(schemas.HeaderMsgID) != id {
		t.Fatalf("allowed event not stored: %v", err)
	}
}

func TestSocketMode(t *testing.T) {
	b := bustest.New(t)
	fb := &flakyBus{Bus: b}
	srv, in, ctx := startSocket(t, config(), fb)
	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	all := bustest.Subscribe(t, b, schemas.SubjectInAll)
	sim := &slackevents.Client{}
	team := slackevents.DefaultTeam

	// events_api: acked after it is stored.
	body, eventID := sim.Callback(slackevents.AppMentionEvent(team, "C0SOCK", "U0ALICE", "<@U0MARIABOT> hi", slackevents.NewTS(), ""))
	env1, err := srv.SendEvent(wctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(wctx, env1); err != nil {
		t.Fatal(err)
	}
	// The stream, not a subscriber, is the authority: stored before the ack.
	st, err := b.JetStream().Stream(wctx, schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetLastMsgForSubject(wctx, "maria.in.mention."+team+".C0SOCK")
	if err != nil || raw.Header.Get(schemas.HeaderMsgID) != eventID {
		t.Fatalf("mention not stored before its ack: %v", err)
	}
	stored := func(id string) bool { return len(byID(all())[id]) == 1 }

	// slash_commands and interactive, same normalizer.
	form := slackevents.CommandForm(team, slackevents.DefaultAppID, "C0SOCK", "U0ALICE", "/maria", "stock?", slackevents.NewTriggerID())
	env2, err := srv.SendCommand(wctx, form)
	if err != nil {
		t.Fatal(err)
	}
	click := slackevents.Click{Channel: "C0SOCK", User: "U0ALICE", MessageTS: "1.000001", ActionID: "erp_cancel", Value: "p9",
		ActionTS: slackevents.NewTS(), TriggerID: slackevents.NewTriggerID(), BlockID: "b"}
	env3, err := srv.SendInteractive(wctx, slackevents.BlockActionsPayload(team, slackevents.DefaultAppID, click))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{env2, env3} {
		if _, err := srv.WaitAck(wctx, id); err != nil {
			t.Fatal(err)
		}
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return stored(schemas.SlackCommandKeyFromForm(form).ID()) }, "slash command stored")
	actionID := schemas.SlackActionID(team, "U0ALICE", click.ActionTS, click.ActionID, click.BlockID, click.TriggerID)
	bustest.Eventually(t, 5*time.Second, func() bool { return stored(actionID) }, "click stored")

	// A malformed envelope is dead-lettered and acknowledged (Slack would resend it forever).
	dlq := bustest.Subscribe(t, b, schemas.DLQSubject(schemas.StreamIn, ingress.DLQInvalid))
	env4, err := srv.Send(wctx, "events_api", []byte(`{"type":"event_callback","team_id":"T1","event":{"type":"message"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(wctx, env4); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return len(dlq()) == 1 }, "invalid envelope dead-lettered")

	// Bus down: the envelope is not acknowledged; Slack's redelivery after
	// recovery is stored once and acknowledged once.
	fb.down.Store(true)
	labels := map[string]string{"endpoint": ingress.EndpointSocket, "outcome": ingress.OutcomeUnavailable}
	before := promtest.Counter(t, "maria_ingress_requests_total", labels)
	body5, eventID5 := sim.Callback(slackevents.MessageEvent(team, "D0ALICE", "im", "U0ALICE", "during outage", slackevents.NewTS(), ""))
	env5, err := srv.SendEvent(wctx, body5)
	if err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return promtest.Counter(t, "maria_ingress_requests_total", labels) > before },
		"socket delivery reported unavailable")
	fb.down.Store(false)
	if err := srv.Redeliver(wctx, env5); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(wctx, env5); err != nil {
		t.Fatal(err)
	}
	acks := 0
	for _, id := range srv.Acks() {
		if id == env5 {
			acks++
		}
	}
	if acks != 1 {
		t.Fatalf("envelope acked %d times, want once (not during the outage)", acks)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return stored(eventID5) }, "redelivered event stored")

	// Slack asks for a reconnect: the client reconnects and keeps working.
	if err := srv.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitConnected(wctx, 2); err != nil {
		t.Fatal(err)
	}
	// The connection dies: reconnect again.
	srv.DropConnections()
	if err := srv.WaitConnected(wctx, 3); err != nil {
		t.Fatal(err)
	}
	body6, eventID6 := sim.Callback(slackevents.ReactionAddedEvent("C0SOCK", "U0BOB", "eyes", "1.000001", "U0ALICE"))
	env6, err := srv.SendEvent(wctx, body6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitAck(wctx, env6); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return stored(eventID6) }, "event after reconnect stored")
	// Exactly one copy of each: the stream holds mention, command, click,
	// the outage message and the reaction.
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 5 {
		t.Fatalf("MARIA_IN holds %d messages, want 5", n)
	}
	if err := in.SocketReady(ctx); err != nil {
		t.Errorf("readiness after reconnect: %v", err)
	}
}
