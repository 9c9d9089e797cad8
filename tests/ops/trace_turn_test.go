package ops_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
)

// publishTurn stores a slack.message.v1 as ingress does: envelope id =
// the Slack event id, correlation = the message's turn.
func publishTurn(t *testing.T, b *bus.Bus, eventID, channel, ts string) *schemas.Envelope {
	t.Helper()
	env, err := schemas.New(eventID, schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{EventID: eventID, TS: ts, Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel, env.User = "T1", channel, "U1"
	env.CorrelationID = schemas.SlackMessageTurn("T1", channel, ts)
	if _, err := b.Publish(ctxT(t), schemas.InSubject(schemas.KindMessage, "T1", channel), env); err != nil {
		t.Fatal(err)
	}
	return env
}

// trace takes what an operator has: the turn id, the Slack event id or
// the message's ts; an id it cannot place is followed as given, and a ts
// posted in two conversations is refused with both turns named.
func TestTraceFindsTheTurnFromAnEventIDOrATS(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	since := time.Now().Add(-time.Hour)
	a := publishTurn(t, b, "Ev0AAA", "C1", "1700000000.000100")
	publishTurn(t, b, "Ev0BBB", "C1", "1700000000.000200")
	publishTurn(t, b, "Ev0CCC", "C2", "1700000000.000200") // same ts, another channel
	for _, c := range []struct{ name, q, want string }{
		{"turn id", a.CorrelationID, a.CorrelationID},
		{"slack event id", "Ev0AAA", a.CorrelationID},
		{"message ts", "1700000000.000100", a.CorrelationID},
		{"unknown id", "corr-from-a-log", "corr-from-a-log"},
	} {
		got, err := ops.ResolveTurn(ctx, b.JetStream(), c.q, since)
		if err != nil || got != c.want {
			t.Errorf("%s: %q → %q, %v; want %q", c.name, c.q, got, err, c.want)
		}
	}
	_, err := ops.ResolveTurn(ctx, b.JetStream(), "1700000000.000200", since)
	if err == nil || !strings.Contains(err.Error(), schemas.SlackMessageTurn("T1", "C1", "1700000000.000200")+" in C1") ||
		!strings.Contains(err.Error(), schemas.SlackMessageTurn("T1", "C2", "1700000000.000200")+" in C2") {
		t.Errorf("ambiguous ts: %v", err)
	}
	// --since after the messages: nothing to place the event id by.
	if got, err := ops.ResolveTurn(ctx, b.JetStream(), "Ev0AAA", time.Now().Add(time.Minute)); err != nil || got != "Ev0AAA" {
		t.Errorf("future since: %q %v", got, err)
	}
}

// A file shared with a question is one turn whichever of Slack's two
// deliveries comes first — file_shared (which does not name the message)
// or the message carrying the file — through the real ingress and
// storage: the message, the file event and the stored file share one
// correlation id, which trace finds from the event id and from the ts.
func TestFileSharedWithAQuestionIsOneTurnInEitherOrder(t *testing.T) {
	e := startDemo(t)
	const user = demo.ScriptUser
	for _, c := range []struct {
		name, channel string
		fileFirst     bool
	}{
		{"file_shared first", "C0FILEFIRST", true},
		{"message first", "C0MSGFIRST", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxT(t)
			since := time.Now().Add(-time.Second)
			f := e.Slack.AddFile("notes.txt", "text/plain", []byte("Budget total is 5,000 EUR\n"))
			text := "what is the budget total in this file?"
			ts := e.Slack.AddUserMessage(c.channel, user, text, "", f.ID)
			shared := func() {
				d, err := e.Events.FileShared(ctx, c.channel, user, f.ID)
				if err != nil || d.Status != http.StatusOK {
					t.Fatalf("file_shared: %d %v", d.Status, err)
				}
			}
			if c.fileFirst {
				shared()
			}
			msg, err := e.Events.Event(ctx, slackevents.MessageWithFilesEvent(demo.Team, c.channel, "channel", user, text, ts, "",
				slackevents.File{ID: f.ID, Name: f.Name, Mimetype: f.Mimetype, Filetype: f.Filetype, Size: f.Size,
					URLPrivate: f.URLPrivate, URLPrivateDownload: f.URLPrivateDownload}))
			if err != nil || msg.Status != http.StatusOK {
				t.Fatalf("message: %d %v", msg.Status, err)
			}
			if !c.fileFirst {
				shared()
			}
			if !schemas.IsTurnID(msg.Turn) {
				t.Fatalf("turn %q is not a turn id", msg.Turn)
			}
			if _, err := e.Settle(ctx, msg.Turn, demo.Stored); err != nil {
				t.Fatalf("file not stored in the message's turn: %v", err)
			}
			// Every file event of the conversation is in the message's turn.
			files := 0
			err = ops.Scan(ctx, e.Observer.JetStream(), schemas.StreamIn, ops.Window{Since: since, Subject: schemas.InSubject(schemas.KindFile, demo.Team, c.channel)},
				ops.ScanOptions{HeadersOnly: true}, func(s ops.Stored) (bool, error) {
					files++
					if corr := s.Header.Get(schemas.HeaderCorrelationID); corr != msg.Turn {
						t.Errorf("file event %s in turn %s, want the message's %s", s.Header.Get(schemas.HeaderMsgID), corr, msg.Turn)
					}
					return true, nil
				})
			if err != nil || files != 1 {
				t.Fatalf("%d file events, %v; want 1", files, err)
			}
			for _, q := range []string{msg.Turn, msg.ID, ts} {
				turn, err := ops.ResolveTurn(ctx, e.Observer.JetStream(), q, since)
				if err != nil || turn != msg.Turn {
					t.Fatalf("trace %s: turn %q, %v; want %s", q, turn, err, msg.Turn)
				}
			}
			hops := traceUntil(t, e, msg.Turn, since, func(types map[string]int) bool { return types[schemas.TypeStoredFile] == 1 })
			types := map[string]int{}
			for _, h := range hops {
				types[h.Message.Type]++
			}
			if types[schemas.TypeSlackMessage] != 1 || types[schemas.TypeSlackFile] != 1 || types[schemas.TypeStoredFile] != 1 {
				t.Errorf("trace of the turn: %v", types)
			}
		})
	}
}

// traceUntil traces turn until done holds for the hop types (storage
// publishes asynchronously of what Settle saw on the core subscription).
func traceUntil(t *testing.T, e *demo.Env, turn string, since time.Time, done func(map[string]int) bool) []ops.Hop {
	t.Helper()
	var hops []ops.Hop
	bustest.Eventually(t, 10*time.Second, func() bool {
		var err error
		hops, err = ops.Trace(context.Background(), e.Observer.JetStream(), turn, since, ops.TraceStreams())
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, h := range hops {
			types[h.Message.Type]++
		}
		return done(types)
	}, "the turn's hops")
	return hops
}
