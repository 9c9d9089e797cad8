// Package bus is the API and runtime of Maria's processors: a Processor is
// a durable pull consumer plus a Handler; Run drives it with ack/nak/term,
// backoff (Retry, RetryAfter), dead letters (Permanent, panics, exhausted
// deliveries) and consumer-loss recovery; Msg.Publish publishes what a
// message caused, deduplicated on redelivery. Bus is the connection they
// run on (Connect), which also declares the streams and publishes.
//
// The rest of the runtime lives beside it, one job per package:
// bus/natsconn (connecting, the embedded server, NATS users), bus/config
// (environment configuration), bus/telemetry (logs, tracing), bus/health
// (/healthz, /readyz, /metrics) and bus/kv (KV buckets, idempotency).
package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Bus is a connection to NATS JetStream plus, when embedded, the server
// itself. Its handles are reached through methods, never changed from
// outside.
type Bus struct {
	Log zerolog.Logger
	nc  *nats.Conn
	js  jetstream.JetStream
	srv *server.Server // nil when connected to a remote NATS
	cfg config.Config
}

// Connect reaches cfg.NATSURL, or starts an embedded server when it is empty.
// It does not declare streams: call EnsureStreams.
func Connect(ctx context.Context, cfg config.Config, log zerolog.Logger, extra ...nats.Option) (*Bus, error) {
	nc, srv, err := natsconn.Dial(natsconn.Options{URL: cfg.NATSURL, Creds: cfg.NATSCreds, Name: cfg.ServiceName,
		DataDir: cfg.DataDir, Listen: cfg.EmbeddedListen}, log, extra...)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		natsconn.Shutdown(srv)
		return nil, fmt.Errorf("jetstream context: %w", err)
	}
	return &Bus{Log: log, nc: nc, js: js, srv: srv, cfg: cfg}, nil
}

// EnsureStreams creates or updates every declared stream. It is idempotent,
// so every replica of every service may call it at start.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, spec := range schemas.Streams {
		want := StreamConfig(spec, b.cfg.Replicas)
		// Update only when the declared settings changed: every replica of
		// every service calls this at start, and concurrent no-op updates
		// race with consumer creation inside nats-server.
		if st, err := b.js.Stream(ctx, spec.Name); err == nil && sameStreamConfig(st.CachedInfo().Config, want) {
			continue
		} else if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("declare stream %s: %w", spec.Name, err)
		}
		if _, err := b.js.CreateOrUpdateStream(ctx, want); err != nil {
			return fmt.Errorf("declare stream %s: %w", spec.Name, err)
		}
	}
	return nil
}

// sameStreamConfig compares the settings Maria declares (the server fills
// in others, so whole-struct equality would always differ).
func sameStreamConfig(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Description == want.Description &&
		have.Retention == want.Retention && have.Storage == want.Storage && have.Discard == want.Discard &&
		have.MaxAge == want.MaxAge && have.MaxBytes == want.MaxBytes && have.MaxMsgSize == want.MaxMsgSize &&
		have.Duplicates == want.Duplicates && have.Replicas == want.Replicas &&
		equalTransform(have.SubjectTransform, want.SubjectTransform)
}

func equalTransform(a, b *jetstream.SubjectTransformConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Prepare declares the streams when the configuration allows it, and
// otherwise checks that the operator declared them.
func (b *Bus) Prepare(ctx context.Context) error {
	if b.cfg.DeclareStreams {
		return b.EnsureStreams(ctx)
	}
	if err := b.Ready(ctx); err != nil {
		return fmt.Errorf("MARIA_DECLARE_STREAMS=false and %w: declare them with `maria streams --declare` as the operator", err)
	}
	return nil
}

// StreamConfig turns a declared spec into a JetStream configuration.
func StreamConfig(spec schemas.StreamSpec, replicas int) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	cfg := jetstream.StreamConfig{
		Name:        spec.Name,
		Description: spec.Description,
		Subjects:    spec.Subjects,
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      spec.MaxAge,
		MaxBytes:    spec.MaxBytes,
		MaxMsgSize:  spec.MaxMsgSize,
		Duplicates:  spec.Duplicates,
		Replicas:    replicas,
	}
	if t := spec.Transform; t != nil {
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: t.Src, Destination: t.Dest}
	}
	return cfg
}

// Ready reports whether the bus can serve: connected, and every stream present.
func (b *Bus) Ready(ctx context.Context) error {
	if b.nc == nil || !b.nc.IsConnected() {
		return errors.New("nats: not connected")
	}
	for _, spec := range schemas.Streams {
		if _, err := b.js.Stream(ctx, spec.Name); err != nil {
			return fmt.Errorf("stream %s: %w", spec.Name, err)
		}
	}
	return nil
}

// Close drains the connection (pending publishes are flushed) and stops the
// embedded server, if any.
func (b *Bus) Close() {
	if b.nc != nil {
		_ = b.nc.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for !b.nc.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		b.nc.Close()
	}
	natsconn.Shutdown(b.srv)
}
