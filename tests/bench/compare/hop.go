package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// hopWorkers is how many messages each variant handles at once.
const hopWorkers = 4

// hopMaxAckPending is the consumers' MaxAckPending, Maria's default, for
// every variant alike.
const hopMaxAckPending = 256

// The hop reads maria.in (MARIA_IN) and writes one child per message on
// maria.out (MARIA_OUT), both Maria's own streams with their settings.
var (
	hopInSubject  = schemas.InSubject(schemas.KindMessage, "T1", "C1")
	hopOutSubject = schemas.OutSubject("T1", "C1")
)

// storeHopInput stores n Maria envelopes on MARIA_IN (untimed), each with
// extra headers (the Watermill variant needs its uuid header).
func storeHopInput(ctx context.Context, js jetstream.JetStream, n int, extra func(*nats.Msg, int)) error {
	env, err := schemas.New("", schemas.TypeSlackMessage, "bench", schemas.SlackMessage{TS: "1.0", Text: "What is the status of order S00042?"})
	if err != nil {
		return err
	}
	env.Team, env.Channel = "T1", "C1"
	futures := make([]jetstream.PubAckFuture, 0, 512)
	flush := func() error {
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		futures = futures[:0]
		return nil
	}
	for i := range n {
		env.ID = "hop-" + strconv.Itoa(i)
		env.CorrelationID = env.ID
		env.ThreadTS = strconv.Itoa(i % 64)
		m, err := bus.EnvelopeMsg(ctx, hopInSubject, env)
		if err != nil {
			return err
		}
		if extra != nil {
			extra(m, i)
		}
		f, err := js.PublishMsgAsync(m)
		if err != nil {
			return err
		}
		if futures = append(futures, f); len(futures) == cap(futures) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// hopEnv is a fresh server with Maria's streams, n messages stored, and
// Maria's bus connected to it.
type hopEnv struct {
	srv *natsServer
	b   *bus.Bus
}

func newHopEnv(ctx context.Context, n int, extra func(*nats.Msg, int)) (*hopEnv, error) {
	srv, err := startServer()
	if err != nil {
		return nil, err
	}
	b, err := srv.mariaBus(ctx, "bench-hop")
	if err != nil {
		srv.stop()
		return nil, err
	}
	e := &hopEnv{srv: srv, b: b}
	if err := storeHopInput(ctx, b.JetStream(), n, extra); err != nil {
		e.close()
		return nil, fmt.Errorf("store the input: %w", err)
	}
	return e, nil
}

func (e *hopEnv) close() { e.b.Close(); e.srv.stop() }

// awaitHop waits until done reaches n (or the deadline), then checks every
// child was stored: the rate is of messages fully handed on.
func (e *hopEnv) awaitHop(ctx context.Context, start time.Time, cpu0 time.Duration, done *atomic.Int64, n int, finished <-chan struct{}) (trial, error) {
	select {
	case <-finished:
	case <-time.After(10 * time.Minute):
		return trial{}, fmt.Errorf("only %d of %d messages handled within 10 min", done.Load(), n)
	case <-ctx.Done():
		return trial{}, ctx.Err()
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	return trial{rate: float64(n) / elapsed.Seconds(), cpu: cpu / time.Duration(n)}, expectStored(ctx, e.b, schemas.StreamOut, n)
}

// hopMaria drains n messages with Maria's runtime: bus.Processor with 4
// workers, a handler that publishes one child (Msg.Publish) and returns.
func hopMaria(ctx context.Context, n int) (trial, error) {
	e, err := newHopEnv(ctx, n, nil)
	if err != nil {
		return trial{}, err
	}
	defer e.close()
	var done atomic.Int64
	finished := make(chan struct{})
	p := bus.Processor{Name: "hop", Stream: schemas.StreamIn, Subjects: []string{schemas.SubjectInAll},
		Concurrency: hopWorkers, MaxAckPending: hopMaxAckPending,
		Handle: func(ctx context.Context, m *bus.Msg) error {
			if _, err := m.Publish(ctx, hopOutSubject, "", schemas.TypeOutStreamAppend, hopPayload); err != nil {
				return err
			}
			if done.Add(1) == int64(n) {
				close(finished)
			}
			return nil
		}}
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	start, cpu0 := time.Now(), processCPU()
	go func() { _ = bus.Run(rctx, e.b, p); close(stopped) }()
	t, err := e.awaitHop(ctx, start, cpu0, &done, n, finished)
	cancel()
	<-stopped
	return t, err
}

// hopChild is the application's work in every variant: decode the
// envelope, derive its child (the id stable under redelivery) and encode
// it with Maria's headers — what Maria's runtime and Msg.Publish do for a
// handler. So the comparators do the same job and store the same bytes
// (a byte copy with fewer headers would measure a lighter workload).
func hopChild(ctx context.Context, data []byte) (*nats.Msg, error) {
	env, err := schemas.Decode(data)
	if err != nil {
		return nil, err
	}
	child, err := env.Child("", schemas.TypeOutStreamAppend, "hop", hopPayload)
	if err != nil {
		return nil, err
	}
	return bus.EnvelopeMsg(ctx, hopOutSubject, child)
}

// hopPayload is the child's data in every variant.
var hopPayload = map[string]string{"text": "ok"}

// hopRaw drains n messages with plain nats.go: Consume, then 4 workers
// that publish the child (Nats-Msg-Id, PubAck awaited) and ack.
func hopRaw(ctx context.Context, n int) (trial, error) {
	e, err := newHopEnv(ctx, n, nil)
	if err != nil {
		return trial{}, err
	}
	defer e.close()
	nc, err := e.srv.connect("bench-raw-hop")
	if err != nil {
		return trial{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return trial{}, err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, schemas.StreamIn, jetstream.ConsumerConfig{Durable: "raw",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: hopMaxAckPending,
		FilterSubject: schemas.SubjectInAll})
	if err != nil {
		return trial{}, err
	}
	var done atomic.Int64
	finished := make(chan struct{})
	work := make(chan jetstream.Msg, hopWorkers)
	quit := make(chan struct{})
	var failed atomic.Value
	var wg sync.WaitGroup
	for range hopWorkers {
		wg.Go(func() {
			for {
				var m jetstream.Msg
				select {
				case m = <-work:
				case <-quit:
					return
				}
				child, err := hopChild(ctx, m.Data())
				if err != nil {
					failed.CompareAndSwap(nil, err)
					_ = m.Term()
					continue
				}
				if _, err := js.PublishMsg(ctx, child); err != nil {
					failed.CompareAndSwap(nil, err)
					_ = m.Nak()
					continue
				}
				_ = m.Ack()
				if done.Add(1) == int64(n) {
					close(finished)
				}
			}
		})
	}
	start, cpu0 := time.Now(), processCPU()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case work <- m:
		case <-quit:
		}
	})
	if err != nil {
		close(quit)
		return trial{}, err
	}
	t, err := e.awaitHop(ctx, start, cpu0, &done, n, finished)
	cc.Stop()
	close(quit)
	wg.Wait()
	if ferr, _ := failed.Load().(error); ferr != nil && err == nil {
		err = ferr
	}
	return t, err
}
