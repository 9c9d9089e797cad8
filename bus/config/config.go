package config

import (
	"errors"
	"fmt"
	"net"

	"github.com/mariahq/maria/bus/natsconn"
)

// Config is what every service shares: where the bus is and how to log.
type Config struct {
	// HTTPAddr serves /healthz, /readyz, /metrics and ingress' Slack endpoints.
	HTTPAddr string
	// NATSURL empty → start an embedded nats-server with JetStream in DataDir.
	NATSURL string
	// NATSCreds authenticates with NATSURL: a JWT .creds file or an nkey
	// seed file (see natsconn.CheckCreds). The in-process embedded server ignores
	// it: its own process is the operator.
	NATSCreds string
	DataDir   string
	// EmbeddedListen is where the embedded server accepts clients so that
	// operator tools (maria tail, maria streams) can attach to a running
	// `maria run`; "-" disables listening (in-process only).
	EmbeddedListen string
	// Replicas of each stream: 1 embedded, 3 on a cluster.
	Replicas int
	LogLevel string
	// LogFormat is json, console (human-readable lines) or auto: console
	// when the log goes to a terminal, JSON otherwise (MARIA_LOG_FORMAT).
	LogFormat string
	// ServiceName names this process in logs and connection names.
	ServiceName string
	// DeclareStreams creates/updates the streams at start. Services running
	// under least-privilege NATS users cannot, and only check the streams
	// exist; the operator declares them (`maria streams --declare`).
	DeclareStreams bool
	// PprofAddr, when set, serves Go's profiles (net/http/pprof) on a
	// listener of its own: a debugging aid, off by default, on loopback
	// unless a host is given (MARIA_PPROF_ADDR).
	PprofAddr string
}

// Load reads the shared configuration.
func Load(env *Env) Config {
	c := Config{
		HTTPAddr:       env.Addr("MARIA_HTTP_ADDR", ":3000"),
		NATSURL:        env.String("NATS_URL", ""),
		NATSCreds:      env.String("NATS_CREDS", ""),
		DataDir:        env.String("MARIA_DATA_DIR", "./data"),
		EmbeddedListen: env.String("MARIA_NATS_LISTEN", "127.0.0.1:4222"),
		LogLevel:       env.OneOf("MARIA_LOG_LEVEL", "info", "trace", "debug", "info", "warn", "error"),
		LogFormat:      env.OneOf("MARIA_LOG_FORMAT", "auto", "auto", "json", "console"),
		ServiceName:    env.String("MARIA_SERVICE_NAME", "maria"),
	}
	c.Replicas = env.Int("MARIA_STREAM_REPLICAS", 1, 1, 5)
	c.DeclareStreams = env.Bool("MARIA_DECLARE_STREAMS", true)
	c.PprofAddr = pprofAddr(env)
	if c.NATSCreds != "" {
		if err := natsconn.CheckCreds(c.NATSCreds); err != nil {
			env.Fail(err)
		}
	}
	if c.NATSURL == "" && c.Replicas != 1 {
		env.Fail(errors.New("MARIA_STREAM_REPLICAS must be 1 with the embedded server (NATS_URL empty)"))
	}
	if c.EmbeddedListen != "-" {
		if _, _, err := net.SplitHostPort(c.EmbeddedListen); err != nil {
			env.Fail(fmt.Errorf("MARIA_NATS_LISTEN=%q: want host:port or -", c.EmbeddedListen))
		}
	}
	return c
}

// pprofAddr reads MARIA_PPROF_ADDR: empty (off), a port (":6060", bound to
// 127.0.0.1 — profiles name code paths and must not reach the network
// unless asked for) or host:port.
func pprofAddr(env *Env) string {
	v := env.String("MARIA_PPROF_ADDR", "")
	if v == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		env.Fail(fmt.Errorf("MARIA_PPROF_ADDR=%q: want host:port or :port (loopback)", v))
		return ""
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
