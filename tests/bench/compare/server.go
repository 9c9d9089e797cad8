package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsServer is one trial's nats-server: fresh, JetStream on file storage
// in a temporary directory removed by stop, listening on loopback. It runs
// in this process (from its Go module), like Maria's embedded server.
type natsServer struct {
	srv *server.Server
	dir string
}

func startServer() (*natsServer, error) {
	dir, err := os.MkdirTemp("", "bench-compare-nats-")
	if err != nil {
		return nil, err
	}
	// Maria's streams reserve their MaxBytes (39 GiB together) against the
	// server's file store limit, by default 75 % of the free disk: on a
	// machine whose disk fills up the declaration would be refused. A
	// trial stores a few MiB, so the limit is set well above the
	// reservations instead.
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: dir, JetStreamMaxStore: 1 << 40, NoLog: true, NoSigs: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("nats-server not ready within 10s")
	}
	return &natsServer{srv: srv, dir: dir}, nil
}

func (s *natsServer) url() string { return s.srv.ClientURL() }

func (s *natsServer) stop() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	_ = os.RemoveAll(s.dir)
}

// connect opens a plain nats.go connection (the comparators' way in).
func (s *natsServer) connect(name string) (*nats.Conn, error) {
	return nats.Connect(s.url(), nats.Name(name))
}

// mariaBus connects Maria's bus to the server, with Maria's streams
// declared, and logs discarded (as in production at the default level,
// only warnings and errors would be written).
func (s *natsServer) mariaBus(ctx context.Context, name string) (*bus.Bus, error) {
	cfg := config.Config{NATSURL: s.url(), Replicas: 1, ServiceName: name, LogLevel: "info", DeclareStreams: true}
	b, err := bus.Connect(ctx, cfg, telemetry.NewLogger(discard{}, "info", name))
	if err != nil {
		return nil, err
	}
	if err := b.EnsureStreams(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// discard is io.Discard without its ReadFrom (zerolog only writes).
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
