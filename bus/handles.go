package bus

import (
	"context"
	"time"

	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// What services reach through a Bus. The connection and the JetStream
// handle are shared by everything on this bus: use them, never close or
// replace them (Close does).

// Conn is the NATS connection: request/reply (ERP queries, thread
// history), the services that answer them, and plain subscriptions.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream is the JetStream handle, for reading streams and consumers
// (the operator commands) and object stores. Key-value buckets are opened
// through package kv, on this handle or with Idempotency.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Embedded reports whether this bus started the embedded server.
func (b *Bus) Embedded() bool { return b.srv != nil }

// StopEmbeddedServer shuts the embedded server down (if this bus runs one)
// while leaving the connection to notice, as a crash of the server would:
// for tests of what services do when NATS goes away. Close still cleans up.
func (b *Bus) StopEmbeddedServer() {
	natsconn.Shutdown(b.srv)
}

// ClientURL is where another process can reach this bus (the embedded
// server's listen address, or NATS_URL).
func (b *Bus) ClientURL() string {
	if b.srv != nil {
		return b.srv.ClientURL()
	}
	return b.cfg.NATSURL
}

// ClientCreds is the NATS_CREDS another process presents along with
// ClientURL: the operator identity of the embedded server, or NATS_CREDS.
func (b *Bus) ClientCreds() string {
	if b.srv != nil {
		return natsconn.EmbeddedCreds(b.cfg.DataDir, natsconn.Operator)
	}
	return b.cfg.NATSCreds
}

// Config returns the configuration the bus was built from.
func (b *Bus) Config() config.Config { return b.cfg }

// Idempotency opens (or creates) the bucket of idempotency records kept
// for ttl, replicated like the streams; stale is how old a pending claim
// must be before another delivery may take it over (see kv.Idempotency).
func (b *Bus) Idempotency(ctx context.Context, bucket string, ttl, stale time.Duration) (*kv.Idempotency, error) {
	return kv.OpenIdempotency(ctx, b.js, kv.Config{Bucket: bucket, TTL: ttl, Replicas: b.cfg.Replicas}, stale)
}
