package natsconn

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

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
		// Room for what the streams reserve, also on a small disk.
		JetStreamMaxStore: maxStore(filepath.Join(abs, "jetstream")),
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

// Shutdown stops srv and waits until it is down; nil does nothing.
func Shutdown(srv *server.Server) {
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}
