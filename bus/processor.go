package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Handler does a processor's one job for one message. Return nil to ack,
// Retry/RetryAfter (or any unmarked error) to have it redelivered after a
// delay, Permanent to dead-letter it at once.
type Handler func(ctx context.Context, m *Msg) error

// Processor is a durable pull consumer plus a handler. Every replica of a
// processor uses the same Name, so they share one consumer and JetStream
// hands each message to exactly one of them.
type Processor struct {
	// Name is the durable consumer name and the source of what it publishes.
	Name string
	// Stream the consumer reads; Subjects filter it.
	Stream   string
	Subjects []string
	Handle   Handler
	// Concurrency bounds messages handled at once by this replica (default 4).
	Concurrency int
	// AckWait is how long a delivery may go unacknowledged before it is
	// redelivered; the runtime sends InProgress while a handler runs, so it
	// only matters for crashed replicas (default 30s).
	AckWait time.Duration
	// MaxDeliver bounds deliveries; the last failure is dead-lettered (default len(BackOff)+1).
	MaxDeliver int
	// BackOff is the nak delay after the n-th failed delivery (default schemas.DefaultBackOff).
	BackOff []time.Duration
	// MaxAckPending bounds unacknowledged messages across all replicas (default 256).
	MaxAckPending int
	// Key, when set, serializes messages with equal keys on one worker of
	// this replica, in delivery order (e.g. per Slack thread).
	Key func(*Msg) string
	// Pinned makes the server deliver to one replica at a time (a JetStream
	// priority group with the pinned-client policy): the others stand by
	// and take over when the active one stops pulling for PinnedTTL. For
	// processors whose order spans messages (egress keeps Slack's order per
	// thread in process memory) — it buys failover, not throughput.
	Pinned bool
	// PinnedTTL is how long a silent active replica keeps its pin (default 30s).
	PinnedTTL time.Duration
	// Log, when set, replaces the bus logger.
	Log *zerolog.Logger
}

// FromSpec fills a processor's consumer settings from a declared spec.
func FromSpec(spec schemas.ConsumerSpec, h Handler) Processor {
	return Processor{Name: spec.Durable, Stream: spec.Stream, Subjects: spec.FilterSubjects, Handle: h,
		AckWait: spec.AckWait, MaxDeliver: spec.MaxDeliver, BackOff: spec.BackOff, MaxAckPending: spec.MaxAckPending}
}

func (p *Processor) defaults() error {
	if p.Name == "" || p.Stream == "" || len(p.Subjects) == 0 || p.Handle == nil {
		return errors.New("processor needs Name, Stream, Subjects and Handle")
	}
	if p.Concurrency <= 0 {
		p.Concurrency = 4
	}
	if p.AckWait <= 0 {
		p.AckWait = 30 * time.Second
	}
	if len(p.BackOff) == 0 {
		p.BackOff = schemas.DefaultBackOff
	}
	if p.MaxDeliver <= 0 {
		p.MaxDeliver = len(p.BackOff) + 1
	}
	if p.MaxAckPending <= 0 {
		p.MaxAckPending = 256
	}
	if p.Pinned && p.PinnedTTL <= 0 {
		p.PinnedTTL = 30 * time.Second
	}
	return nil
}

// ConsumerConfig is the durable consumer a processor declares.
func (p Processor) ConsumerConfig() jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:       p.Name,
		Description:   "maria processor " + p.Name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       p.AckWait,
		MaxDeliver:    p.MaxDeliver,
		MaxAckPending: p.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// Consumer-level BackOff would replace AckWait for first deliveries;
		// the runtime applies p.BackOff itself through NakWithDelay.
	}
	if p.Pinned {
		cfg.PriorityPolicy = jetstream.PriorityPolicyPinned
		cfg.PriorityGroups = []string{pinnedGroup}
		cfg.PinnedTTL = p.PinnedTTL
	}
	if len(p.Subjects) == 1 {
		cfg.FilterSubject = p.Subjects[0]
	} else {
		cfg.FilterSubjects = p.Subjects
	}
	return cfg
}

// pinnedGroup is the priority group pinned processors pull in.
const pinnedGroup = "active"

// Msg is one delivery handed to a Handler.
type Msg struct {
	Subject string
	Header  nats.Header
	Env     *schemas.Envelope
	// Delivery is 1 on the first delivery.
	Delivery uint64
	Sequence uint64
	Log      zerolog.Logger

	raw  jetstream.Msg
	bus  *Bus
	proc string
}

// Publish sends a message caused by this one: the child keeps the
// correlation id and thread, its causation id is this message's id, and its
// id is derived from (this id, type, key) so a redelivered handler that
// publishes again is deduplicated by the stream.
func (m *Msg) Publish(ctx context.Context, subject, key, typ string, data any) (*schemas.Envelope, error) {
	child, err := m.Env.Child(key, typ, m.proc, data)
	if err != nil {
		return nil, Permanent(err)
	}
	if _, err := m.bus.Publish(ctx, subject, child); err != nil {
		return nil, Retry(err)
	}
	return child, nil
}

// InProgress extends the ack deadline; the runtime already calls it
// periodically, handlers may call it between long steps.
func (m *Msg) InProgress() error { return m.raw.InProgress() }

// Bus returns the bus the message came from.
func (m *Msg) Bus() *Bus { return m.bus }

// Run declares the processor's consumer and handles messages until ctx is
// cancelled; then it stops pulling, lets in-flight handlers finish, and
// returns. Undelivered buffered messages are redelivered to another replica
// after AckWait: nothing is lost.
//
// Run owns its consumer: if it is lost (deleted, or the pull is refused) Run
// re-creates it with bounded attempts, and Bus.ConsumerChecks reports it red
// meanwhile. When it cannot be restored (stream gone, attempts exhausted)
// Run drains and returns an error, so the process exits for its supervisor.
func Run(ctx context.Context, b *Bus, p Processor) error {
	if err := p.defaults(); err != nil {
		return err
	}
	log := b.Log
	if p.Log != nil {
		log = *p.Log
	}
	log = log.With().Str("processor", p.Name).Logger()
	cons, err := b.js.CreateOrUpdateConsumer(ctx, p.Stream, p.ConsumerConfig())
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started: nothing to drain
		}
		return fmt.Errorf("processor %s: declare consumer on %s: %w", p.Name, p.Stream, err)
	}
	pl := newPuller(b, &p, log)
	if err := pl.start(cons); err != nil {
		return fmt.Errorf("processor %s: consume: %w", p.Name, err)
	}
	b.setConsumerHealth(p.Stream, p.Name, nil)
	log.Info().Str("stream", p.Stream).Strs("subjects", p.Subjects).Int("concurrency", p.Concurrency).Msg("processor started")

	// Handlers get a context that outlives the stop signal so in-flight work
	// can finish during drain, bounded by AckWait.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	queues := make([]chan jetstream.Msg, p.Concurrency)
	shared := make(chan jetstream.Msg)
	var wg sync.WaitGroup
	for i := range queues {
		q := shared
		if p.Key != nil {
			q = make(chan jetstream.Msg, 1)
			queues[i] = q
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for raw := range q {
				handleOne(workCtx, b, &p, log, raw)
			}
		}()
	}

	// Next blocks until the server confirms a drain; with the connection
	// gone that takes nats.go's 10 s flush timeout. So Next runs on its own
	// goroutine and the loop can give up on it: a message fetched after
	// that is never acked and will be redelivered, not lost.
	abandon := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			pl.drain()
			if !b.nc.IsConnected() {
				close(abandon)
				return
			}
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				close(abandon)
			}
		case <-stopped:
		}
	}()
	msgs := make(chan jetstream.Msg)
	// lostc holds, before msgs closes, why the consumer is gone for good (or nil).
	lostc := make(chan error, 1)
	go func() {
		defer close(msgs)
		lostc <- pl.run(ctx, msgs, abandon)
	}()
	go watchConsumerLag(ctx, cons, p.Stream, p.Name)

	delivered := false // this replica received work (for a pinned one: it held the pin)
loop:
	for {
		var raw jetstream.Msg
		select {
		case m, ok := <-msgs:
			if !ok {
				break loop
			}
			raw = m
		case <-abandon:
			pl.stop()
			break loop
		}
		delivered = true
		if p.Key == nil {
			shared <- raw
			continue
		}
		queues[keyIndex(p.Key, raw, len(queues))] <- raw
	}
	close(stopped)
	var lost error
	select {
	case lost = <-lostc:
	default: // abandoned: the puller is still stuck in a drain
	}
	if p.Key == nil {
		close(shared)
	} else {
		for _, q := range queues {
			close(q)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.AckWait):
		cancelWork()
		<-done
	}
	if p.Pinned && delivered && lost == nil && b.nc.IsConnected() {
		// Hand the pin over now rather than after PinnedTTL, so a rolling
		// restart does not pause delivery; in-flight work is finished.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		if st, err := b.js.Stream(uctx, p.Stream); err == nil {
			if err := st.UnpinConsumer(uctx, p.Name, pinnedGroup); err != nil {
				log.Warn().Err(err).Msg("unpin failed; the standby takes over after PinnedTTL")
			}
		}
		cancel()
	}
	if lost != nil {
		// Fail loud: the check stays red and the process exits for its
		// supervisor instead of idling with nothing consumed.
		log.Error().Err(lost).Msg("processor stopped: its consumer is lost")
		return lost
	}
	b.dropConsumerHealth(p.Stream, p.Name)
	log.Info().Msg("processor drained")
	return nil
}

func keyIndex(key func(*Msg) string, raw jetstream.Msg, n int) int {
	env, err := schemas.Decode(raw.Data())
	k := raw.Subject()
	if err == nil {
		k = key(&Msg{Subject: raw.Subject(), Header: raw.Headers(), Env: env})
	}
	h := fnv.New32a()
	h.Write([]byte(k))
	return int(h.Sum32() % uint32(n))
}

func handleOne(ctx context.Context, b *Bus, p *Processor, log zerolog.Logger, raw jetstream.Msg) {
	stage := subjectStage(raw.Subject())
	meta, err := raw.Metadata()
	if err != nil {
		// Not a JetStream delivery: cannot ack, cannot happen with a pull consumer.
		log.Error().Err(err).Str("subject", raw.Subject()).Msg("message without metadata")
		return
	}
	if meta.NumDelivered > 1 {
		metricRedelivered.WithLabelValues(p.Name).Inc()
	}
	mlog := log.With().Str("subject", raw.Subject()).Uint64("seq", meta.Sequence.Stream).Uint64("delivery", meta.NumDelivered).Logger()
	sctx, span := startProcessSpan(telemetry.Extract(ctx, raw.Headers()), p.Name, raw.Subject(), meta.NumDelivered)
	if tid := telemetry.TraceID(sctx); tid != "" {
		mlog = mlog.With().Str("trace_id", tid).Logger()
	}

	env, err := schemas.Decode(raw.Data())
	if err != nil {
		deadLetter(ctx, b, p, mlog, raw, meta, "invalid", err)
		endProcessSpan(span, "dead_letter", err)
		return
	}
	annotateProcessSpan(span, env)
	mlog = mlog.With().Str("correlation_id", env.CorrelationID).Str("msg_id", env.ID).Str("type", env.Type).Logger()
	m := &Msg{Subject: raw.Subject(), Header: raw.Headers(), Env: env, Delivery: meta.NumDelivered,
		Sequence: meta.Sequence.Stream, Log: mlog, raw: raw, bus: b, proc: p.Name}

	hctx := telemetry.WithCorrelation(mlog.WithContext(sctx), env.CorrelationID)
	hctx, cancel := context.WithCancel(hctx)
	heartbeatDone := make(chan struct{})
	go func() {
		t := time.NewTicker(p.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				close(heartbeatDone)
				return
			case <-t.C:
				_ = raw.InProgress()
			}
		}
	}()
	metricInFlight.WithLabelValues(p.Name).Inc()
	start := time.Now()
	herr := safeHandle(hctx, p.Handle, m)
	metricHandlerSeconds.WithLabelValues(p.Name).Observe(time.Since(start).Seconds())
	metricInFlight.WithLabelValues(p.Name).Dec()
	cancel()
	<-heartbeatDone

	switch {
	case herr == nil:
		// A plain ack: DoubleAck stalled 5 s on a lost confirmation about
		// once per 2,000 messages in BenchmarkProcessorThroughput, and a lost
		// ack costs only a redelivery that the handler's idempotency absorbs.
		if err := raw.Ack(); err != nil {
			mlog.Warn().Err(err).Msg("ack failed")
		}
		metricHandled.WithLabelValues(p.Name, stage, "ack").Inc()
		endProcessSpan(span, "ack", nil)
	case IsPermanent(herr):
		if stack := PanicStack(herr); stack != "" {
			mlog.Error().Err(herr).Str("stack", stack).Msg("handler panicked")
		} else {
			mlog.Warn().Err(herr).Msg("permanent failure")
		}
		deadLetter(ctx, b, p, mlog, raw, meta, "permanent", herr)
		endProcessSpan(span, "dead_letter", herr)
	case int(meta.NumDelivered) >= p.MaxDeliver:
		mlog.Warn().Err(herr).Msg("retries exhausted")
		deadLetter(ctx, b, p, mlog, raw, meta, "max_deliver", fmt.Errorf("after %d deliveries: %w", meta.NumDelivered, herr))
		endProcessSpan(span, "dead_letter", herr)
	default:
		delay, ok := RetryDelay(herr)
		if !ok {
			i := int(meta.NumDelivered) - 1
			if i >= len(p.BackOff) {
				i = len(p.BackOff) - 1
			}
			delay = p.BackOff[i]
		}
		mlog.Info().Err(herr).Dur("retry_in", delay).Msg("retrying later")
		if err := raw.NakWithDelay(delay); err != nil {
			mlog.Warn().Err(err).Msg("nak failed; AckWait will redeliver")
		}
		metricHandled.WithLabelValues(p.Name, stage, "nak").Inc()
		endProcessSpan(span, "nak", herr)
	}
}

// safeHandle turns a handler panic into a permanent error: a panic on some
// input will panic again on the same input. The error carries the stack
// (PanicStack), which the dead letter and the log record.
func safeHandle(ctx context.Context, h Handler, m *Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(recoveredPanic(r))
		}
	}()
	return h(ctx, m)
}

func deadLetter(ctx context.Context, b *Bus, p *Processor, log zerolog.Logger, raw jetstream.Msg, meta *jetstream.MsgMetadata, cause string, reason error) {
	stage := subjectStage(raw.Subject())
	dl := DeadLetter{Stream: p.Stream, Consumer: p.Name, Subject: raw.Subject(), Sequence: meta.Sequence.Stream,
		Deliveries: meta.NumDelivered, Reason: reason.Error(), Stack: PanicStack(reason), Header: raw.Headers(), Data: raw.Data()}
	if err := b.PublishDeadLetter(ctx, dl); err != nil {
		// Never lose it: leave it to be redelivered and try again.
		log.Error().Err(err).Msg("dead-letter publish failed; will retry")
		_ = raw.NakWithDelay(5 * time.Second)
		metricHandled.WithLabelValues(p.Name, stage, "nak").Inc()
		return
	}
	if err := raw.Term(); err != nil {
		log.Warn().Err(err).Msg("term failed")
	}
	metricDeadLetters.WithLabelValues(p.Stream, p.Name, cause).Inc()
	metricHandled.WithLabelValues(p.Name, stage, "dead_letter").Inc()
}

func watchConsumerLag(ctx context.Context, cons jetstream.Consumer, stream, name string) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		if info, err := cons.Info(ctx); err == nil {
			metricConsumerPending.WithLabelValues(stream, name).Set(float64(info.NumPending))
			metricConsumerAckPending.WithLabelValues(stream, name).Set(float64(info.NumAckPending))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
