package ops_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// flaky fails permanently the first time it sees a message (a bug), and
// handles it afterwards (the fix is deployed); it counts successes per id.
type flaky struct {
	mu      sync.Mutex
	seen    map[string]bool
	handled map[string]int
}

func (f *flaky) handle(_ context.Context, m *bus.Msg) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.seen[m.Env.ID] {
		f.seen[m.Env.ID] = true
		return bus.Permanent(errors.New("bug: cannot parse this"))
	}
	f.handled[m.Env.ID]++
	return nil
}

func (f *flaky) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handled[id]
}

func runFlaky(t *testing.T, b *bus.Bus) *flaky {
	f := &flaky{seen: map[string]bool{}, handled: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := bus.Processor{Name: "flaky", Stream: schemas.StreamIn, Subjects: []string{schemas.InKindFilter(schemas.KindMessage)}, Handle: f.handle}
	go func() { done <- bus.Run(ctx, b, p) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

func dlqRows(t *testing.T, b *bus.Bus) []ops.DeadLetterRow {
	rows, err := ops.ListDLQ(ctxT(t), b.JetStream(), "", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Re-drive returns a dead letter to processing once: the processor that
// failed on first sight handles it exactly once after the redrive, the dead
// letter is gone, and a second redrive (or a republish retried after a crash
// before the delete) duplicates nothing.
func TestDLQRedriveReturnsMessageToProcessingOnce(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	f := runFlaky(t, b)
	env, _ := publishMessage(t, b, "Ev-1", "C1", "hello")
	bustest.Eventually(t, 10*time.Second, func() bool { return len(dlqRows(t, b)) == 1 }, "dead letter")
	rows := dlqRows(t, b)
	r := rows[0]
	if r.Stream != schemas.StreamIn || r.Consumer != "flaky" || r.OrigSeq != 1 || r.Deliveries != 1 ||
		r.Subject != schemas.InSubject(schemas.KindMessage, "T1", "C1") || !strings.Contains(r.Reason, "cannot parse") {
		t.Fatalf("dead letter row %+v", r)
	}
	d, err := ops.ShowDLQ(ctx, b.JetStream(), r.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := d.Envelope.(*schemas.Envelope); !ok || got.ID != env.ID {
		t.Fatalf("show envelope %#v", d.Envelope)
	}
	// Filters by stream and consumer.
	if rows, _ := ops.ListDLQ(ctx, b.JetStream(), schemas.StreamOut, "", time.Time{}); len(rows) != 0 {
		t.Fatalf("MARIA_OUT filter listed %d", len(rows))
	}
	if rows, _ := ops.ListDLQ(ctx, b.JetStream(), "", "flaky", time.Time{}); len(rows) != 1 {
		t.Fatalf("consumer filter listed %d", len(rows))
	}

	res, err := ops.Redrive(ctx, b, r.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.Stream != schemas.StreamIn || res.NewSeq != 2 {
		t.Fatalf("redrive %+v", res)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return f.count(env.ID) == 1 && consumerIdle(ctx, b, schemas.StreamIn, "flaky") }, "handled after redrive")
	if n := len(dlqRows(t, b)); n != 0 {
		t.Fatalf("%d dead letters left", n)
	}
	redriven, err := ops.GetMsg(ctx, b.JetStream(), schemas.StreamIn, 2)
	if err != nil {
		t.Fatal(err)
	}
	if redriven.Header.Get(schemas.HeaderReplay) == "" || redriven.Header.Get(schemas.HeaderCorrelationID) != env.CorrelationID || string(redriven.Data) != string(mustGet(t, b, 1).Data) {
		t.Fatalf("redriven message headers %v", redriven.Header)
	}
	// Redriving the same dead letter again: it is gone, nothing is published.
	if _, err := ops.Redrive(ctx, b, r.Seq); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("second redrive: %v", err)
	}
	if got := streamLastSeq(t, b, schemas.StreamIn); got != 2 {
		t.Fatalf("MARIA_IN last seq %d after a repeated redrive, want 2", got)
	}

	// A crash between the republish and the delete leaves the dead letter in
	// place; redriving it again must not process the message twice.
	env2, _ := publishMessage(t, b, "Ev-2", "C1", "hello again")
	bustest.Eventually(t, 10*time.Second, func() bool { return len(dlqRows(t, b)) == 1 }, "second dead letter")
	seq2 := dlqRows(t, b)[0].Seq
	first, err := ops.Republish(ctx, b, seq2) // "crash" here: not deleted
	if err != nil || first.Duplicate {
		t.Fatalf("republish %+v %v", first, err)
	}
	again, err := ops.Redrive(ctx, b, seq2)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.NewSeq != first.NewSeq {
		t.Fatalf("repeated redrive %+v, want a duplicate of seq %d", again, first.NewSeq)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return f.count(env2.ID) == 1 && consumerIdle(ctx, b, schemas.StreamIn, "flaky") }, "handled once")
	if n := len(dlqRows(t, b)); n != 0 {
		t.Fatalf("%d dead letters left", n)
	}
	if f.count(env.ID) != 1 || f.count(env2.ID) != 1 {
		t.Fatalf("handled counts %v", f.handled)
	}
}

func mustGet(t *testing.T, b *bus.Bus, seq uint64) ops.Stored {
	s, err := ops.GetMsg(ctxT(t), b.JetStream(), schemas.StreamIn, seq)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDLQPurge(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	for i, c := range []string{"ai", "ai", "egress"} {
		stream := schemas.StreamIn
		if c == "egress" {
			stream = schemas.StreamOut
		}
		env, _ := schemas.New("m"+string(rune('0'+i)), schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "1.0", Text: "x"})
		msg, _ := bus.EnvelopeMsg(ctx, "maria.in.message.T1.C1", env)
		if err := b.PublishDeadLetter(ctx, bus.DeadLetter{Stream: stream, Consumer: c, Subject: msg.Subject, Sequence: uint64(i + 1), Deliveries: 5, Reason: "boom", Header: msg.Header, Data: msg.Data}); err != nil {
			t.Fatal(err)
		}
	}
	if rows, err := ops.ListDLQ(ctx, b.JetStream(), "", "", time.Now().Add(time.Hour)); err != nil || len(rows) != 0 {
		t.Fatalf("--since in the future listed %d (%v)", len(rows), err)
	}
	if rows, err := ops.ListDLQ(ctx, b.JetStream(), schemas.StreamIn, "", time.Now().Add(-time.Hour)); err != nil || len(rows) != 2 {
		t.Fatalf("MARIA_IN since an hour listed %d (%v)", len(rows), err)
	}
	if err := ops.PurgeDLQ(ctx, b.JetStream(), []uint64{1}); err != nil {
		t.Fatal(err)
	}
	if rows := dlqRows(t, b); len(rows) != 2 || rows[0].Seq != 2 {
		t.Fatalf("after purge of 1: %+v", rows)
	}
	n, err := ops.PurgeAllDLQ(ctx, b.JetStream(), schemas.StreamOut, "egress")
	if err != nil || n != 1 {
		t.Fatalf("purge all egress: %d %v", n, err)
	}
	if rows := dlqRows(t, b); len(rows) != 1 || rows[0].Consumer != "ai" {
		t.Fatalf("after purge of egress: %+v", rows)
	}
	st, err := ops.Streams(ctx, b.JetStream(), false)
	if err != nil {
		t.Fatal(err)
	}
	if st[len(st)-1].Name == "" || st[0].Name != schemas.StreamIn {
		t.Fatalf("streams order %v", st)
	}
}
