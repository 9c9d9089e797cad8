// Package ops_test checks Maria's operator commands (cmd/maria/ops) against a
// real embedded nats-server: replay, sandbox replay, dead-letter re-drive,
// trace, streams, tail.
package ops_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publishMessage stores a slack.message.v1 on maria.in.message.T1.<channel>.
func publishMessage(t *testing.T, b *bus.Bus, id, channel, text string) (*schemas.Envelope, *jetstream.PubAck) {
	t.Helper()
	env, err := schemas.New(id, schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "1700000000." + id, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel, env.User = "T1", channel, "U1"
	ack, err := b.Publish(ctxT(t), schemas.InSubject(schemas.KindMessage, "T1", channel), env)
	if err != nil {
		t.Fatal(err)
	}
	return env, ack
}

func streamLastSeq(t *testing.T, b *bus.Bus, stream string) uint64 {
	t.Helper()
	st, err := b.JetStream().Stream(ctxT(t), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

func storedTime(t *testing.T, b *bus.Bus, stream string, seq uint64) time.Time {
	t.Helper()
	st, err := b.JetStream().Stream(ctxT(t), stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(ctxT(t), seq)
	if err != nil {
		t.Fatal(err)
	}
	return m.Time
}

// consumerIdle reports whether a durable consumer has handled everything.
func consumerIdle(ctx context.Context, b *bus.Bus, stream, name string) bool {
	c, err := b.JetStream().Consumer(ctx, stream, name)
	if err != nil {
		return false
	}
	info, err := c.Info(ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

// syncWriter serializes writes from several goroutines (service logs).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
