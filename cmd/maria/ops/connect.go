// Package ops is the logic of Maria's operator commands (maria replay, dlq,
// tail, trace, streams). The cmd_*.go files of the binary only parse flags
// and call into it, so everything here is testable against an embedded
// nats-server.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/nats-io/nats.go"
)

// Connect reaches the bus an operator command works on:
//   - NATS_URL (+ NATS_CREDS) when set;
//   - else the embedded server of a running `maria run`, which listens on
//     MARIA_NATS_LISTEN (default 127.0.0.1:4222), as NATS_CREDS or else the
//     operator identity of that server's data dir (MARIA_DATA_DIR/nats/operator.nk);
//   - else, nothing listening there, an embedded server started on
//     MARIA_DATA_DIR itself (in-process only, no listener), so a stopped
//     deployment's data can be inspected and repaired — only when that data
//     dir already holds JetStream data: an operator command never creates
//     state, so with neither it fails with a NothingRunningError.
//
// It never declares or changes streams.
func Connect(ctx context.Context, env *config.Env, logOut io.Writer) (*bus.Bus, error) {
	cfg := config.Load(env)
	// Operator commands never serve HTTP; a bad MARIA_HTTP_ADDR is not our problem.
	if err := env.Err(); err != nil {
		return nil, err
	}
	cfg.ServiceName = "maria-ops"
	if cfg.NATSURL == "" && cfg.EmbeddedListen != "-" && cfg.EmbeddedListen != "" {
		d := net.Dialer{Timeout: 500 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", cfg.EmbeddedListen); err == nil {
			_ = c.Close()
			cfg.NATSURL = "nats://" + cfg.EmbeddedListen
			if cfg.NATSCreds == "" {
				creds, err := operatorCreds(cfg)
				if err != nil {
					return nil, err
				}
				cfg.NATSCreds = creds
			}
		}
	}
	if cfg.NATSURL == "" {
		if err := dataDirHoldsJetStream(cfg); err != nil {
			return nil, err
		}
		cfg.EmbeddedListen = "-"
	}
	if logOut == nil {
		logOut = io.Discard
	}
	log := telemetry.NewLogger(logOut, "warn", cfg.ServiceName)
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	b, err := bus.Connect(cctx, cfg, log)
	if errors.Is(err, nats.ErrAuthorization) && cfg.NATSCreds == "" {
		return nil, fmt.Errorf("connect: %s refuses anonymous clients: set NATS_CREDS (for Maria's embedded server: <its data dir>/nats/operator.nk)", natsconn.RedactURL(cfg.NATSURL))
	}
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return b, nil
}

// operatorCreds is the operator identity of the running embedded server,
// which shares MARIA_DATA_DIR with this command.
func operatorCreds(cfg config.Config) (string, error) {
	creds := natsconn.EmbeddedCreds(cfg.DataDir, natsconn.Operator)
	if _, err := os.Stat(creds); err != nil {
		return "", fmt.Errorf("a NATS server listens on %s but there are no credentials for it: set NATS_CREDS, or MARIA_DATA_DIR to the data dir of the running maria (no %s)", cfg.EmbeddedListen, creds)
	}
	return creds, nil
}

// Where describes what Connect reached, for the operator.
func Where(b *bus.Bus) string {
	if b.Embedded() {
		return "embedded server on data dir " + b.Config().DataDir + " (no maria running)"
	}
	return b.Conn().ConnectedUrlRedacted()
}
