package natsconn

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Options say where and as whom to connect.
type Options struct {
	// URL of the NATS server(s); empty starts the embedded server.
	URL string
	// Creds is NATS_CREDS: a JWT .creds file or an nkey seed file. The
	// embedded server ignores it: its own process is the operator.
	Creds string
	// Name names the connection (the service).
	Name string
	// DataDir and Listen configure the embedded server (StartEmbedded).
	DataDir, Listen string
}

// Dial connects as o says. With o.URL empty it starts the embedded server
// and connects in-process as the operator; the server is returned then
// (nil otherwise) and is the caller's to shut down after closing the
// connection. Connection events and asynchronous errors go to log.
func Dial(o Options, log zerolog.Logger, extra ...nats.Option) (*nats.Conn, *server.Server, error) {
	opts := []nats.Option{
		nats.Name(o.Name),
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
	addr, creds := o.URL, o.Creds
	var srv *server.Server
	if addr == "" {
		var err error
		if srv, err = StartEmbedded(o.DataDir, o.Listen); err != nil {
			return nil, nil, err
		}
		opts = append(opts, nats.InProcessServer(srv))
		addr = srv.ClientURL()
		// The process that runs the server runs every service and declares
		// the streams: it is the operator.
		creds = EmbeddedCreds(o.DataDir, Operator)
	}
	if creds != "" {
		opt, err := credsOption(creds)
		if err != nil {
			Shutdown(srv)
			return nil, nil, err
		}
		opts = append(opts, opt)
	}
	opts = append(opts, extra...)
	nc, err := nats.Connect(addr, opts...)
	if err != nil {
		Shutdown(srv)
		return nil, nil, fmt.Errorf("connect to nats %s: %w", redactURL(addr), err)
	}
	return nc, srv, nil
}
