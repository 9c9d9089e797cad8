package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/ingress"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// ingressConns is how many connections Slack's side keeps busy.
const ingressConns = 16

// ingressMaria posts the events to Maria's real ingress handler (verify,
// normalize, publish, 200 after the PubAck) and checks MARIA_IN holds them.
func ingressMaria(ctx context.Context, events []signedEvent) (trial, error) {
	srv, err := startServer()
	if err != nil {
		return trial{}, err
	}
	defer srv.stop()
	b, err := srv.mariaBus(ctx, "bench-ingress")
	if err != nil {
		return trial{}, err
	}
	defer b.Close()
	in := ingress.New(ingress.Config{SigningSecret: signingSecret, APIURL: ingress.DefaultAPIURL, PublishTimeout: 2 * time.Second},
		b, zerolog.Nop(), nil)
	mux := http.NewServeMux()
	in.Routes(mux)
	url, stopHTTP, err := serveHTTP(mux)
	if err != nil {
		return trial{}, err
	}
	defer stopHTTP()
	t, err := postAll(ctx, url+schemas.SlackPathEvents, events, ingressConns)
	if err != nil {
		return trial{}, err
	}
	return t, expectStored(ctx, b, schemas.StreamIn, len(events))
}

// ingressRawPublish stores the same messages Maria's ingress stores (its
// normalizer's envelopes, its headers) with plain synchronous JetStream
// publishes from 16 goroutines: the floor under any HTTP ingress.
func ingressRawPublish(ctx context.Context, events []signedEvent) (trial, error) {
	msgs, err := storedMessages(ctx, events)
	if err != nil {
		return trial{}, err
	}
	srv, err := startServer()
	if err != nil {
		return trial{}, err
	}
	defer srv.stop()
	b, err := srv.mariaBus(ctx, "bench-streams") // Maria's streams, same settings
	if err != nil {
		return trial{}, err
	}
	defer b.Close()
	nc, err := srv.connect("bench-raw")
	if err != nil {
		return trial{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return trial{}, err
	}
	t, err := timedConcurrently(len(msgs), ingressConns, func(i int) error {
		_, err := js.PublishMsg(ctx, msgs[i])
		return err
	})
	if err != nil {
		return trial{}, err
	}
	return t, expectStored(ctx, b, schemas.StreamIn, len(msgs))
}

// storedMessages is what Maria's ingress publishes for events, built by
// its own normalizer and envelope encoding (before the clock starts).
func storedMessages(ctx context.Context, events []signedEvent) ([]*nats.Msg, error) {
	norm := ingress.NewNormalizer(nil, nil)
	out := make([]*nats.Msg, 0, len(events))
	for _, ev := range events {
		res, err := norm.Event(ev.body)
		if err != nil {
			return nil, err
		}
		if len(res.Events) != 1 {
			return nil, fmt.Errorf("normalizer made %d events of one app_mention", len(res.Events))
		}
		m, err := bus.EnvelopeMsg(ctx, res.Events[0].Subject, res.Events[0].Env)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// serveHTTP serves h on a loopback port; stop closes it.
func serveHTTP(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = s.Close() }, nil
}

// expectStored fails a trial whose stream does not hold want messages:
// a variant that loses messages must not look fast.
func expectStored(ctx context.Context, b *bus.Bus, stream string, want int) error {
	st, err := b.JetStream().Stream(ctx, stream)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	if got := int(info.State.Msgs); got != want {
		return fmt.Errorf("%s holds %d messages, want %d", stream, got, want)
	}
	return nil
}

var errNoNode = errors.New("node not found: Bolt-js skipped")
