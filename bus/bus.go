// Package bus is the runtime every Maria service shares: connecting to NATS
// (or starting an embedded JetStream server), declaring streams, publishing
// with deduplication, and running processors with ack/nak/term, backoff and
// dead letters.
package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Bus is a connection to NATS JetStream plus, when embedded, the server itself.
type Bus struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	Log    zerolog.Logger
	Server *server.Server // nil when connected to a remote NATS
	cfg    Config
}

// Connect reaches cfg.NATSURL, or starts an embedded server when it is empty.
// It does not declare streams: call EnsureStreams.
func Connect(ctx context.Context, cfg Config, log zerolog.Logger, extra ...nats.Option) (*Bus, error) {
	b := &Bus{cfg: cfg, Log: log}
	addr := cfg.NATSURL
	opts := []nats.Option{
		nats.Name(cfg.ServiceName),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn().Err(err).Msg("nats disconnected")
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info().Str("url", nc.ConnectedUrlRedacted()).Msg("nats reconnected") }),
		// Permission denials only surface here, never as a publish error.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := log.Error().Err(err)
			if sub != nil {
				ev = ev.Str("subscription", sub.Subject)
			}
			ev.Msg("nats async error")
		}),
	}
	creds := cfg.NATSCreds
	if addr == "" {
		srv, err := StartEmbedded(cfg.DataDir, cfg.EmbeddedListen)
		if err != nil {
			return nil, err
		}
		b.Server = srv
		opts = append(opts, nats.InProcessServer(srv))
		addr = srv.ClientURL()
		// The process that runs the server runs every service and declares
		// the streams: it is the operator.
		creds = EmbeddedCreds(cfg.DataDir, NATSOperator)
	}
	if creds != "" {
		opt, err := credsOption(creds)
		if err != nil {
			b.shutdownServer()
			return nil, err
		}
		opts = append(opts, opt)
	}
	opts = append(opts, extra...)
	nc, err := nats.Connect(addr, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("connect to nats %s: %w", redactURL(addr), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		b.shutdownServer()
		return nil, fmt.Errorf("jetstream context: %w", err)
	}
	b.NC, b.JS = nc, js
	return b, nil
}

// StartEmbedded starts a nats-server with JetStream storing in dataDir.
// listen is host:port for outside clients, or "-" for in-process only.
// Clients authenticate with the identities of dataDir (EmbeddedCreds),
// created on the first start; anonymous connections are refused.
func StartEmbedded(dataDir, listen string) (*server.Server, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir %q: %w", dataDir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir %q: %w", abs, err)
	}
	users, err := embeddedUsers(abs)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	opts := &server.Options{
		Nkeys:      users,
		ServerName: "maria-embedded",
		JetStream:  true,
		StoreDir:   filepath.Join(abs, "jetstream"),
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 8 << 20, // uploads ride inline on MARIA_OUT
	}
	if listen == "-" || listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, fmt.Errorf("embedded listen %q: %w", listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("embedded listen port %q: %w", port, err)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats-server in %s not ready after 15s (is another maria using %s or the data dir?)", abs, listen)
	}
	return srv, nil
}

// EnsureStreams creates or updates every declared stream. It is idempotent,
// so every replica of every service may call it at start.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	for _, spec := range schemas.Streams {
		want := StreamConfig(spec, b.cfg.Replicas)
		// Update only when the declared settings changed: every replica of
		// every service calls this at start, and concurrent no-op updates
		// race with consumer creation inside nats-server.
		if st, err := b.JS.Stream(ctx, spec.Name); err == nil && sameStreamConfig(st.CachedInfo().Config, want) {
			continue
		} else if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("declare stream %s: %w", spec.Name, err)
		}
		if _, err := b.JS.CreateOrUpdateStream(ctx, want); err != nil {
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
		have.Duplicates == want.Duplicates && have.Replicas == want.Replicas
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
	return jetstream.StreamConfig{
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
}

// Ready reports whether the bus can serve: connected, and every stream present.
func (b *Bus) Ready(ctx context.Context) error {
	if b.NC == nil || !b.NC.IsConnected() {
		return errors.New("nats: not connected")
	}
	for _, spec := range schemas.Streams {
		if _, err := b.JS.Stream(ctx, spec.Name); err != nil {
			return fmt.Errorf("stream %s: %w", spec.Name, err)
		}
	}
	return nil
}

// Close drains the connection (pending publishes are flushed) and stops the
// embedded server, if any.
func (b *Bus) Close() {
	if b.NC != nil {
		_ = b.NC.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for !b.NC.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		b.NC.Close()
	}
	b.shutdownServer()
}

func (b *Bus) shutdownServer() {
	if b.Server != nil {
		b.Server.Shutdown()
		b.Server.WaitForShutdown()
	}
}

// ClientURL is where another process can reach this bus (the embedded
// server's listen address, or NATS_URL).
func (b *Bus) ClientURL() string {
	if b.Server != nil {
		return b.Server.ClientURL()
	}
	return b.cfg.NATSURL
}

// ClientCreds is the NATS_CREDS another process presents along with
// ClientURL: the operator identity of the embedded server, or NATS_CREDS.
func (b *Bus) ClientCreds() string {
	if b.Server != nil {
		return EmbeddedCreds(b.cfg.DataDir, NATSOperator)
	}
	return b.cfg.NATSCreds
}

// Config returns the configuration the bus was built from.
func (b *Bus) Config() Config { return b.cfg }

// redactURL hides credentials in a (comma separated) NATS URL list.
func redactURL(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		parts[i] = RedactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// RedactURL returns u fit for logs and errors: any user:password@ part is
// masked, even when u does not parse as a URL.
func RedactURL(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.User != nil {
		return parsed.Redacted()
	}
	if at := strings.LastIndex(u, "@"); at >= 0 {
		start := strings.Index(u, "://")
		if start < 0 || start > at {
			start = -3
		}
		return u[:start+3] + "xxxxx" + u[at:]
	}
	return u
}
