// Package bustest starts a real embedded nats-server with JetStream for
// tests, with Maria's streams declared.
package bustest

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Options tune New.
type Options struct {
	// DataDir reuses a store (to test restarts); default t.TempDir().
	DataDir string
	// Log receives the bus logs; default discarded unless MARIA_TEST_LOG=1.
	Log io.Writer
	// NoStreams skips declaring Maria's streams.
	NoStreams bool
}

// New starts an embedded server on a random loopback port and returns a bus
// connected to it; everything is closed when the test ends.
func New(t testing.TB, opts ...Options) *bus.Bus {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	w := o.Log
	if w == nil {
		w = io.Discard
		if os.Getenv("MARIA_TEST_LOG") == "1" {
			w = os.Stderr
		}
	}
	cfg := config.Config{DataDir: o.DataDir, EmbeddedListen: "127.0.0.1:0", Replicas: 1, ServiceName: t.Name(), LogLevel: "debug"}
	log := telemetry.NewLogger(w, "debug", "test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, cfg, log)
	if err != nil {
		t.Fatalf("bustest: %v", err)
	}
	t.Cleanup(b.Close)
	if !o.NoStreams {
		if err := b.EnsureStreams(ctx); err != nil {
			t.Fatalf("bustest: %v", err)
		}
	}
	return b
}

// Client opens another connection to the same server (a second replica,
// a tool), sharing its configuration; closed at test end.
func Client(t testing.TB, b *bus.Bus, w io.Writer) *bus.Bus {
	t.Helper()
	if w == nil {
		w = io.Discard
	}
	cfg := b.Config()
	cfg.NATSURL, cfg.NATSCreds = b.ClientURL(), b.ClientCreds()
	log := telemetry.NewLogger(w, "debug", "test-client")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := bus.Connect(ctx, cfg, log)
	if err != nil {
		t.Fatalf("bustest client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Logger returns a zerolog logger writing to the test log.
func Logger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger()
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %s: "+msg, append([]any{timeout}, args...)...)
}

// Subscribe collects every message published on subject (core NATS, so it
// sees what is stored in streams too) until the test ends.
func Subscribe(t testing.TB, b *bus.Bus, subject string) func() []*nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 4096)
	sub, err := b.Conn().ChanSubscribe(subject, ch)
	if err != nil {
		t.Fatalf("subscribe %s: %v", subject, err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := b.Conn().Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	var got []*nats.Msg
	return func() []*nats.Msg {
		for {
			select {
			case m := <-ch:
				got = append(got, m)
			default:
				return append([]*nats.Msg(nil), got...)
			}
		}
	}
}

// StreamMsgs is how many messages stream holds now.
func StreamMsgs(t testing.TB, b *bus.Bus, stream string) uint64 {
	t.Helper()
	st, err := b.JetStream().Stream(context.Background(), stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	return info.State.Msgs
}
