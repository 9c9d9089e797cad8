package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func envelope(t *testing.T, id, text string) *schemas.Envelope {
	t.Helper()
	env, err := schemas.New(id, schemas.TypeSlackMessage, "test", schemas.SlackMessage{TS: "1.0", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel = "T1", "C1"
	return env
}

func publish(t *testing.T, b *bus.Bus, id, text string) {
	t.Helper()
	if _, err := b.Publish(context.Background(), schemas.InSubject(schemas.KindMessage, "T1", "C1"), envelope(t, id, text)); err != nil {
		t.Fatal(err)
	}
}

// run starts p in the background and returns a stop func that cancels it
// and waits for the drain to finish.
func run(t *testing.T, b *bus.Bus, p bus.Processor) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, b, p) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("processor returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func proc(name string, h bus.Handler) bus.Processor {
	return bus.Processor{Name: name, Stream: schemas.StreamIn, Subjects: []string{schemas.SubjectInAll}, Handle: h,
		AckWait: 2 * time.Second, BackOff: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}, MaxDeliver: 3}
}

func TestPublishDeduplicatesRepeatedMsgID(t *testing.T) {
	b := bustest.New(t)
	env := envelope(t, "Ev-dup", "hello")
	subj := schemas.InSubject(schemas.KindMessage, "T1", "C1")
	first, err := b.Publish(context.Background(), subj, env)
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Publish(context.Background(), subj, env)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate || first.Sequence != second.Sequence {
		t.Fatalf("first=%+v second=%+v: want the second flagged duplicate of the first", first, second)
	}
	if n := bustest.StreamMsgs(t, b, schemas.StreamIn); n != 1 {
		t.Fatalf("stream has %d messages, want 1", n)
	}
}

func TestPublishSetsContractHeaders(t *testing.T) {
	b := bustest.New(t)
	env := envelope(t, "Ev-h", "x")
	env.CausationID = "Ev-parent"
	ctx := telemetry.WithTrace(context.Background(), telemetry.TraceContext{Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
	if _, err := b.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
		t.Fatal(err)
	}
	s, _ := b.JetStream().Stream(context.Background(), schemas.StreamIn)
	m, err := s.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		schemas.HeaderMsgID: "Ev-h", schemas.HeaderType: schemas.TypeSlackMessage, schemas.HeaderSource: "test",
		schemas.HeaderCorrelationID: "Ev-h", schemas.HeaderCausationID: "Ev-parent",
		schemas.HeaderTraceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestRetryableErrorIsRedeliveredAfterBackoff(t *testing.T) {
	b := bustest.New(t)
	var mu sync.Mutex
	var times []time.Time
	run(t, b, proc("retry", func(ctx context.Context, m *bus.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		if m.Delivery == 1 {
			return errors.New("odoo is briefly down")
		}
		return nil
	}))
	publish(t, b, "Ev-r", "x")
	bustest.Eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(times) == 2 }, "second delivery")
	mu.Lock()
	gap := times[1].Sub(times[0])
	mu.Unlock()
	if gap < 180*time.Millisecond {
		t.Fatalf("redelivered after %s, before the 200ms backoff", gap)
	}
}

func TestRetryAfterOverridesBackoff(t *testing.T) {
	b := bustest.New(t)
	var mu sync.Mutex
	var times []time.Time
	run(t, b, proc("retry-after", func(ctx context.Context, m *bus.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		if m.Delivery == 1 {
			return bus.RetryAfter(errors.New("rate limited"), 900*time.Millisecond)
		}
		return nil
	}))
	publish(t, b, "Ev-ra", "x")
	bustest.Eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(times) == 2 }, "second delivery")
	if gap := times[1].Sub(times[0]); gap < 850*time.Millisecond {
		t.Fatalf("redelivered after %s, before Retry-After 900ms", gap)
	}
}

func dlqMessages(t *testing.T, b *bus.Bus) []*jetstream.RawStreamMsg {
	t.Helper()
	s, err := b.JetStream().Stream(context.Background(), schemas.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(context.Background())
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(context.Background(), seq)
		if err == nil {
			out = append(out, m)
		}
	}
	return out
}

func TestDeadLetters(t *testing.T) {
	tests := []struct {
		name       string
		handler    bus.Handler
		body       []byte // raw body instead of an envelope
		reason     string
		deliveries string
	}{
		{name: "permanent error", handler: func(context.Context, *bus.Msg) error {
			return bus.Permanent(errors.New("channel_not_found"))
		}, reason: "permanent: channel_not_found", deliveries: "1"},
		{name: "max deliveries", handler: func(context.Context, *bus.Msg) error {
			return errors.New("still failing")
		}, reason: "after 3 deliveries: still failing", deliveries: "3"},
		{name: "handler panic", handler: func(context.Context, *bus.Msg) error {
			panic("nil pointer in handler")
		}, reason: "handler panic", deliveries: "1"},
		{name: "invalid envelope", handler: func(context.Context, *bus.Msg) error {
			return nil
		}, body: []byte(`{"not":"an envelope"`), reason: "invalid envelope", deliveries: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bustest.New(t)
			run(t, b, proc("dl", tt.handler))
			subj := schemas.InSubject(schemas.KindMessage, "T1", "C1")
			if tt.body != nil {
				msg := nats.NewMsg(subj)
				msg.Data = tt.body
				msg.Header.Set("X-Original", "kept")
				if _, err := b.JetStream().PublishMsg(context.Background(), msg); err != nil {
					t.Fatal(err)
				}
			} else {
				publish(t, b, "Ev-dl", "x")
			}
			var dl []*jetstream.RawStreamMsg
			bustest.Eventually(t, 10*time.Second, func() bool { dl = dlqMessages(t, b); return len(dl) == 1 }, "one dead letter")
			m := dl[0]
			if m.Subject != schemas.DLQSubject(schemas.StreamIn, "dl") {
				t.Errorf("subject %s", m.Subject)
			}
			if r := m.Header.Get(schemas.HeaderDLQReason); !contains(r, tt.reason) {
				t.Errorf("reason %q does not contain %q", r, tt.reason)
			}
			if d := m.Header.Get(schemas.HeaderDLQDeliveries); d != tt.deliveries {
				t.Errorf("deliveries %s, want %s", d, tt.deliveries)
			}
			if m.Header.Get(schemas.HeaderDLQSubject) != subj || m.Header.Get(schemas.HeaderDLQSequence) != "1" {
				t.Errorf("origin headers wrong: %v", m.Header)
			}
			if tt.body != nil {
				if string(m.Data) != string(tt.body) || m.Header.Get("X-Original") != "kept" {
					t.Errorf("original body/headers not kept: %q %v", m.Data, m.Header)
				}
			} else if m.Header.Get(schemas.HeaderDLQOrigMsgID) != "Ev-dl" || m.Header.Get(schemas.HeaderCorrelationID) != "Ev-dl" {
				t.Errorf("original headers not kept: %v", m.Header)
			}
			dead := bus.ParseDeadLetter(m.Header, m.Data)
			if dead.Stream != schemas.StreamIn || dead.Consumer != "dl" || dead.Sequence != 1 {
				t.Errorf("parsed %+v", dead)
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestAdvisoryDeadLettersMessagesWhoseLastDeliveryTimedOut(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = b.WatchMaxDeliveries(ctx) }()
	// A consumer whose client "crashes": it fetches and never acks.
	cons, err := b.JetStream().CreateOrUpdateConsumer(ctx, schemas.StreamIn, jetstream.ConsumerConfig{
		Durable: "crashy", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 300 * time.Millisecond, MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the advisory subscription register
	publish(t, b, "Ev-crash", "x")
	for i := 0; i < 2; i++ {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
		}
	}
	// The server notices the exhausted message when a pull is waiting, as
	// one always is on a live consumer.
	if batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second)); err == nil {
		for range batch.Messages() {
			t.Error("message delivered beyond MaxDeliver")
		}
	}
	var dl []*jetstream.RawStreamMsg
	bustest.Eventually(t, 10*time.Second, func() bool { dl = dlqMessages(t, b); return len(dl) == 1 }, "dead letter from advisory")
	if r := dl[0].Header.Get(schemas.HeaderDLQReason); !contains(r, "max deliveries") {
		t.Fatalf("reason %q", r)
	}
	if dl[0].Header.Get(schemas.HeaderDLQConsumer) != "crashy" {
		t.Fatalf("consumer %q", dl[0].Header.Get(schemas.HeaderDLQConsumer))
	}
}

func TestReplicasShareTheWork(t *testing.T) {
	b := bustest.New(t)
	replica2 := bustest.Client(t, b, nil)
	const n = 200
	var mu sync.Mutex
	seen := map[string][]string{}
	handler := func(who string) bus.Handler {
		return func(ctx context.Context, m *bus.Msg) error {
			time.Sleep(2 * time.Millisecond)
			mu.Lock()
			seen[m.Env.ID] = append(seen[m.Env.ID], who)
			mu.Unlock()
			return nil
		}
	}
	p1, p2 := proc("shared", handler("a")), proc("shared", handler("b"))
	run(t, b, p1)
	run(t, replica2, p2)
	for i := 0; i < n; i++ {
		publish(t, b, "Ev-share-"+strconv.Itoa(i), "x")
	}
	bustest.Eventually(t, 20*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == n }, "all handled")
	time.Sleep(300 * time.Millisecond) // any double handling would show up now
	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	for id, whos := range seen {
		if len(whos) != 1 {
			t.Errorf("%s handled %d times by %v", id, len(whos), whos)
		}
		count[whos[0]]++
	}
	if count["a"] == 0 || count["b"] == 0 {
		t.Errorf("work not shared: %v", count)
	}
}

func TestDrainLosesNothing(t *testing.T) {
	b := bustest.New(t)
	const n = 60
	var mu sync.Mutex
	acked := map[string]int{}
	var started atomic.Int32
	slow := func(ctx context.Context, m *bus.Msg) error {
		started.Add(1)
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		acked[m.Env.ID]++
		mu.Unlock()
		return nil
	}
	for i := 0; i < n; i++ {
		publish(t, b, "Ev-drain-"+strconv.Itoa(i), "x")
	}
	stop := run(t, b, proc("drainer", slow))
	bustest.Eventually(t, 10*time.Second, func() bool { return started.Load() >= 10 }, "some work started")
	stop() // SIGTERM: in-flight work finishes, the rest stays in the stream
	mu.Lock()
	first := len(acked)
	mu.Unlock()
	if first == n {
		t.Skip("everything finished before the stop; nothing left to prove")
	}
	run(t, b, proc("drainer", slow))
	bustest.Eventually(t, 20*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) == n }, "all %d handled after restart", n)
}

func TestPerKeyOrder(t *testing.T) {
	b := bustest.New(t)
	var mu sync.Mutex
	got := map[string][]int{}
	p := proc("ordered", func(ctx context.Context, m *bus.Msg) error {
		msg, err := schemas.DecodeData[schemas.SlackMessage](m.Env)
		if err != nil {
			return err
		}
		time.Sleep(time.Duration(len(msg.Text)%3) * time.Millisecond)
		var key string
		var i int
		fmt.Sscanf(msg.Text, "%s %d", &key, &i)
		mu.Lock()
		got[key] = append(got[key], i)
		mu.Unlock()
		return nil
	})
	p.Concurrency = 4
	p.Key = func(m *bus.Msg) string { return m.Env.ThreadTS }
	run(t, b, p)
	for i := 0; i < 30; i++ {
		for _, k := range []string{"a", "b", "c"} {
			env := envelope(t, fmt.Sprintf("Ev-%s-%d", k, i), fmt.Sprintf("%s %d", k, i))
			env.ThreadTS = k
			if _, err := b.Publish(context.Background(), schemas.InSubject("message", "T1", "C1"), env); err != nil {
				t.Fatal(err)
			}
		}
	}
	bustest.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["a"])+len(got["b"])+len(got["c"]) == 90
	}, "all handled")
	for k, seq := range got {
		for i, v := range seq {
			if v != i {
				t.Fatalf("key %s out of order: %v", k, seq)
			}
		}
	}
}

func TestRestartFindsStreamsAndConsumers(t *testing.T) {
	dir := t.TempDir()
	b := bustest.New(t, bustest.Options{DataDir: dir})
	publish(t, b, "Ev-persist", "x")
	stop := run(t, b, proc("persistent", func(context.Context, *bus.Msg) error { return nil }))
	bustest.Eventually(t, 5*time.Second, func() bool {
		c, err := b.JetStream().Consumer(context.Background(), schemas.StreamIn, "persistent")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.AckFloor.Stream == 1
	}, "acked")
	stop()
	b.Close()

	b2 := bustest.New(t, bustest.Options{DataDir: dir, NoStreams: true})
	if err := b2.Ready(context.Background()); err != nil {
		t.Fatalf("streams lost across restart: %v", err)
	}
	if n := bustest.StreamMsgs(t, b2, schemas.StreamIn); n != 1 {
		t.Fatalf("MARIA_IN has %d messages after restart", n)
	}
	c, err := b2.JetStream().Consumer(context.Background(), schemas.StreamIn, "persistent")
	if err != nil {
		t.Fatalf("consumer lost: %v", err)
	}
	info, _ := c.Info(context.Background())
	if info.AckFloor.Stream != 1 || info.NumPending != 0 {
		t.Fatalf("consumer state lost: ack floor %d pending %d", info.AckFloor.Stream, info.NumPending)
	}
	if err := b2.EnsureStreams(context.Background()); err != nil {
		t.Fatalf("re-declaring streams is not idempotent: %v", err)
	}
}

func TestChildPublishIsDeduplicatedOnRedelivery(t *testing.T) {
	b := bustest.New(t)
	run(t, b, proc("child", func(ctx context.Context, m *bus.Msg) error {
		if _, err := m.Publish(ctx, schemas.OutSubject("T1", "C1"), "reply", schemas.TypeOutPost, schemas.OutPost{Text: "hi"}); err != nil {
			return err
		}
		if m.Delivery < 2 {
			return errors.New("crash after publishing")
		}
		return nil
	}))
	publish(t, b, "Ev-child", "x")
	bustest.Eventually(t, 10*time.Second, func() bool {
		c, err := b.JetStream().Consumer(context.Background(), schemas.StreamIn, "child")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.AckFloor.Stream == 1
	}, "acked on second delivery")
	if n := bustest.StreamMsgs(t, b, schemas.StreamOut); n != 1 {
		t.Fatalf("MARIA_OUT has %d replies, want 1", n)
	}
}

func TestPrepareChecksStreamsWhenNotDeclaring(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	// bustest's config leaves DeclareStreams false, as a least-privilege service would.
	err := b.Prepare(context.Background())
	if err == nil || !contains(err.Error(), "maria streams --declare") {
		t.Fatalf("Prepare without streams: %v", err)
	}
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Prepare(context.Background()); err != nil {
		t.Fatalf("Prepare with declared streams: %v", err)
	}
}

func TestEnsureStreamsUpdatesOnlyChangedStreams(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	st, _ := b.JetStream().Stream(ctx, schemas.StreamIn)
	before := st.CachedInfo().Created
	// An operator shortened MARIA_IN's age by hand: the next start restores the declared value.
	cfg := bus.StreamConfig(schemas.Streams[0], 1)
	cfg.MaxAge = time.Hour
	if _, err := b.JetStream().UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ = b.JetStream().Stream(ctx, schemas.StreamIn)
	if got := st.CachedInfo().Config.MaxAge; got != schemas.Streams[0].MaxAge {
		t.Fatalf("MaxAge %s not restored to %s", got, schemas.Streams[0].MaxAge)
	}
	if !st.CachedInfo().Created.Equal(before) {
		t.Fatal("stream was recreated instead of updated")
	}
	// Unchanged: not a single create or update request reaches the server.
	updates := bustest.Subscribe(t, b, "$JS.API.STREAM.UPDATE.>")
	creates := bustest.Subscribe(t, b, "$JS.API.STREAM.CREATE.>")
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	_ = b.Conn().Flush()
	if n := len(updates()) + len(creates()); n != 0 {
		t.Fatalf("%d stream create/update requests for unchanged streams", n)
	}
}

// With NATS gone, stopping must not wait for a drain no server can
// confirm (nats.go would wait its 10 s flush timeout per subscription):
// unacked messages are redelivered later, so giving up loses nothing.
func TestStopWithoutNATSDoesNotWaitForDrain(t *testing.T) {
	b := bustest.New(t)
	c := bustest.Client(t, b, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, c, proc("gone", func(context.Context, *bus.Msg) error { return nil })) }()
	bustest.Eventually(t, 5*time.Second, func() bool {
		_, err := b.JetStream().Consumer(context.Background(), schemas.StreamIn, "gone")
		return err == nil
	}, "consumer declared")
	b.StopEmbeddedServer()
	bustest.Eventually(t, 5*time.Second, func() bool { return !c.Conn().IsConnected() }, "client notices the server is gone")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Run is still waiting for a drain that no server can confirm")
	}
}

func TestPinnedProcessorHasOneActiveReplicaAndFailsOver(t *testing.T) {
	b := bustest.New(t)
	standby := bustest.Client(t, b, nil)
	var mu sync.Mutex
	handledBy := map[string]string{}
	handler := func(who string) bus.Handler {
		return func(ctx context.Context, m *bus.Msg) error {
			mu.Lock()
			handledBy[m.Env.ID] = who
			mu.Unlock()
			return nil
		}
	}
	pinned := func(who string) bus.Processor {
		p := proc("pinned", handler(who))
		// A pin TTL far longer than the wait below: the standby can only
		// take over in time because a stopping replica hands its pin over.
		p.Pinned, p.PinnedTTL = true, time.Minute
		return p
	}
	stops := map[string]func(){"a": run(t, b, pinned("a"))}
	bustest.Eventually(t, 5*time.Second, func() bool {
		_, err := b.JetStream().Consumer(context.Background(), schemas.StreamIn, "pinned")
		return err == nil
	}, "consumer declared")
	stops["b"] = run(t, standby, pinned("b"))
	for i := 0; i < 40; i++ {
		publish(t, b, "Ev-pin-"+strconv.Itoa(i), "x")
	}
	bustest.Eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(handledBy) == 40 }, "first batch handled")
	mu.Lock()
	active := handledBy["Ev-pin-0"]
	for id, who := range handledBy {
		if who != active {
			t.Fatalf("%s handled by %s while %s held the pin", id, who, active)
		}
	}
	mu.Unlock()
	other := map[string]string{"a": "b", "b": "a"}[active]
	stops[active]()
	for i := 40; i < 60; i++ {
		publish(t, b, "Ev-pin-"+strconv.Itoa(i), "x")
	}
	bustest.Eventually(t, 15*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(handledBy) == 60 }, "the standby takes over")
	mu.Lock()
	defer mu.Unlock()
	for i := 40; i < 60; i++ {
		if who := handledBy["Ev-pin-"+strconv.Itoa(i)]; who != other {
			t.Fatalf("Ev-pin-%d handled by %q after %s stopped", i, who, active)
		}
	}
}
