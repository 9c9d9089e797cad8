package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// While no stream answers a subject — as while a stream's raft group
// elects a leader — Publish keeps retrying with the same message id, and
// goes through, once, soon after the stream answers again. (The cap on the
// waits between attempts is pinned by TestPublishBackOffIsCappedAndOutlastsAnElection.)
func TestPublishGoesThroughSoonAfterTheStreamAnswersAgain(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	env, err := schemas.New("", schemas.TypeOutPost, "test", schemas.OutPost{Text: "late"})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel = "T1", "C1"

	type result struct {
		at  time.Time
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, err := b.Publish(ctx, "late.one", env)
		done <- result{time.Now(), err}
	}()
	// Several seconds of "no responders": the retries are well into their
	// backoff when the stream appears.
	time.Sleep(3 * time.Second)
	select {
	case r := <-done:
		t.Fatalf("publish returned before any stream took the subject: %v", r.err)
	default:
	}
	if _, err := b.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "LATE", Subjects: []string{"late.>"}}); err != nil {
		t.Fatal(err)
	}
	answering := time.Now()
	r := <-done
	if r.err != nil {
		t.Fatalf("publish: %v", r.err)
	}
	if took := r.at.Sub(answering); took > 1500*time.Millisecond {
		t.Errorf("publish went through %s after the stream answered; want within ~0.75 s (the retry cap with jitter)", took.Round(time.Millisecond))
	}
	if n := bustest.StreamMsgs(t, b, "LATE"); n != 1 {
		t.Errorf("LATE holds %d messages, want 1", n)
	}
}
