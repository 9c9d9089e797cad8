package ops_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// At rest nothing lags: a consumer filtered on message events has handled
// its message, and a later event of another kind (a reaction) moves the
// stream's last sequence past its ack floor — which used to show as
// "ACK FLOOR LAG 1" with nothing pending. The KV_ stream behind a bucket is
// not listed unless asked for.
func TestStreamsShowNoLagAtRestAndHideInternals(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := bus.Processor{Name: "messages", Stream: schemas.StreamIn, Subjects: []string{schemas.InKindFilter(schemas.KindMessage)},
		Handle: func(context.Context, *bus.Msg) error { return nil }}
	go func() { done <- bus.Run(pctx, b, p) }()
	t.Cleanup(func() { cancel(); <-done })
	publishMessage(t, b, "Ev-1", "C1", "hello")
	react, err := schemas.New("Ev-r", schemas.TypeSlackReaction, "ingress", schemas.SlackReaction{Reaction: "eyes"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, schemas.InSubject(schemas.KindReaction, "T1", "C1"), react); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return consumerIdle(ctx, b, schemas.StreamIn, "messages") }, "consumer idle")
	if _, err := b.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "maria_test_state"}); err != nil {
		t.Fatal(err)
	}

	st, err := ops.Streams(ctx, b.JetStream(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if ops.IsInternalStream(s.Name) {
			t.Fatalf("internal stream %s listed without --all", s.Name)
		}
		for _, c := range s.Consumers {
			if c.Lag != 0 {
				t.Fatalf("%s/%s lags %d at rest: %+v", s.Name, c.Name, c.Lag, c)
			}
		}
	}
	if st[0].Name != schemas.StreamIn || st[0].LastSeq != 2 || len(st[0].Consumers) != 1 || st[0].Consumers[0].AckFloorSeq != 1 {
		t.Fatalf("MARIA_IN %+v (the ack floor must trail the stream for this test to mean anything)", st[0])
	}
	var out bytes.Buffer
	ops.PrintStreams(&out, st)
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "messages" && f[2] != "0" {
			t.Fatalf("table shows lag %s:\n%s", f[2], out.String())
		}
	}
	all, err := ops.Streams(ctx, b.JetStream(), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := all[len(all)-1].Name; got != "KV_maria_test_state" {
		t.Fatalf("--all: last stream %s, want the KV stream after Maria's", got)
	}
}
