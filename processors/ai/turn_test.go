package ai

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// flakyTurns fails the next `failures` Finish calls, as a KV write does
// while its stream leader is re-elected.
type flakyTurns struct {
	turnStore
	mu       sync.Mutex
	failures int
	finishes int
}

func (f *flakyTurns) Finish(ctx context.Context, key string, result any) error {
	f.mu.Lock()
	f.finishes++
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("injected: turn record unavailable")
	}
	return f.turnStore.Finish(ctx, key, result)
}

func flakyHarness(t *testing.T, cfg Config, failures int) (*harness, *flakyTurns) {
	t.Helper()
	f := &flakyTurns{failures: failures}
	h := newHarnessWith(t, cfg, Options{Turns: func(s turnStore) turnStore { f.turnStore = s; return f }})
	return h, f
}

// distinct counts the distinct command ids among envs: what egress (and
// JetStream's dedup) turn into Slack effects.
func distinct(envs []*schemas.Envelope) int {
	ids := map[string]bool{}
	for _, e := range envs {
		ids[e.ID] = true
	}
	return len(ids)
}

// turnDone reports whether the turn record of event id is finished.
func turnDone(t *testing.T, b *bus.Bus, id string) bool {
	t.Helper()
	idem, err := b.Idempotency(context.Background(), TurnBucket, time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	rec, found, err := idem.Get(context.Background(), "turn-"+id)
	return err == nil && found && rec.State == "done"
}

// assertOneAnswer checks that exactly one answer reached egress: one
// stream start, one stop, the model asked once, no apology.
func assertOneAnswer(t *testing.T, h *harness, want string) {
	t.Helper()
	if n := distinct(h.outputs(schemas.TypeOutStreamStart)); n != 1 {
		t.Fatalf("%d distinct stream starts, want 1", n)
	}
	if n := distinct(h.outputs(schemas.TypeOutStreamStop)); n != 1 {
		t.Fatalf("%d distinct stream stops, want 1", n)
	}
	if n := len(h.model.requests()); n != 1 {
		t.Fatalf("model asked %d times, want 1", n)
	}
	seen := map[string]bool{}
	var text strings.Builder
	for _, e := range h.outputs("") {
		stream := e.Type == schemas.TypeOutStreamStart || e.Type == schemas.TypeOutStreamAppend || e.Type == schemas.TypeOutStreamStop
		if stream && !seen[e.ID] {
			seen[e.ID] = true
			d, _ := schemas.DecodeData[schemas.OutStream](e)
			text.WriteString(d.Markdown)
		}
	}
	if text.String() != want {
		t.Fatalf("answer %q, want %q", text.String(), want)
	}
}

// A failing turn record is retried: within the delivery when it fails
// once, by a retried delivery when it fails for the whole first one — and
// that retry records the answer already produced instead of answering
// again.
func TestFailingFinishIsRetriedAndAnswersOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int
		finishes int // Finish calls expected in all
	}{
		{"fails once: retried in the delivery", 1, 2},
		{"fails throughout the delivery: the delivery is retried", finishAttempts, finishAttempts + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, f := flakyHarness(t, testConfig(), tc.failures)
			h.model.push(say("All orders shipped."))
			h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> orders?"})
			bustest.Eventually(t, 20*time.Second, func() bool { return turnDone(t, h.b, "ev1") }, "turn never recorded")
			bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) > 0 }, "no stream stop")
			waitAcked(t, h.b, ConsumerName)
			assertOneAnswer(t, h, "All orders shipped.")
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.finishes != tc.finishes {
				t.Fatalf("Finish called %d times, want %d", f.finishes, tc.finishes)
			}
		})
	}
}

// A finished turn delivered again (its ack was lost) republishes only the
// end of its answer, under the same ids: nothing new reaches egress.
func TestRedeliveredFinishedTurnAnswersNoMore(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(say("All orders shipped."))
	env := h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> orders?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return turnDone(t, h.b, "ev1") }, "turn never recorded")
	waitAcked(t, h.b, ConsumerName)
	stops := len(h.outputs(schemas.TypeOutStreamStop))

	// The same event stored again under another message id: a second
	// delivery of the turn, as after a lost ack.
	msg, err := bus.EnvelopeMsg(context.Background(), schemas.InSubject(schemas.KindMention, "T1", "C1"), env)
	if err != nil {
		t.Fatal(err)
	}
	msg.Header.Set(schemas.HeaderMsgID, env.ID+"-again")
	if _, err := h.b.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) > stops }, "the end was not republished")
	waitAcked(t, h.b, ConsumerName)
	assertOneAnswer(t, h, "All orders shipped.")
}

// A replica whose claim was taken over while it was answering publishes
// nothing further: the new owner ends the answer.
func TestStaleOwnerPublishesNothingAfterTakeover(t *testing.T) {
	cfg := testConfig()
	cfg.StreamFlushChars = 10000 // the whole answer stays buffered until the end
	h := newHarness(t, cfg)
	entered, release := make(chan struct{}), make(chan struct{})
	h.model.push(func(req openai.ChatCompletionRequest) (*Completion, error) {
		close(entered)
		<-release
		return say("A late answer.")(req)
	})
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "1.1", Text: "<@UMARIA> orders?"})
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the model was never asked")
	}
	// Another replica, judging the claim stale, takes the turn over and
	// finishes it.
	other, err := h.b.Idempotency(context.Background(), TurnBucket, time.Hour, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	prev, done, err := other.Begin(context.Background(), "turn-ev1")
	if err != nil || done || prev == nil {
		t.Fatalf("takeover: prev=%v done=%v err=%v", prev, done, err)
	}
	if err := other.Finish(context.Background(), "turn-ev1", turnRecord{Answered: time.Now()}); err != nil {
		t.Fatal(err)
	}
	before := len(h.outputs(""))
	close(release)
	waitAcked(t, h.b, ConsumerName)
	if got := h.outputs(""); len(got) != before {
		t.Fatalf("the stale owner published %d more commands (first: %s)", len(got)-before, got[before].Type)
	}
}
