package failover

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsServer is an external nats-server (JetStream on a store dir) that a
// test can stop and start again on the same port and store.
type natsServer struct {
	t    *testing.T
	dir  string
	port int
	srv  *server.Server
}

func startServer(t *testing.T) *natsServer {
	n := &natsServer{t: t, dir: t.TempDir(), port: server.RANDOM_PORT}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	n.t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.dir,
		// Room for the streams' reservations whatever the free disk (as the embedded server does).
		JetStreamMaxStore: 1 << 40, NoLog: true, NoSigs: true})
	if err != nil {
		n.t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		n.t.Fatal("nats-server not ready")
	}
	n.srv, n.port = srv, srv.Addr().(*net.TCPAddr).Port
}

func (n *natsServer) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func connect(t *testing.T, url, name string) *bus.Bus {
	t.Helper()
	w := io.Discard
	if os.Getenv("MARIA_TEST_LOG") == "1" {
		w = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, config.Config{NATSURL: url, Replicas: 1, ServiceName: name}, telemetry.NewLogger(w, "debug", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// After the nats-server restarts on its store, a processed round trip
// (publish → a processor that reads and updates KV state and publishes its
// answer → a pinned consumer that delivers it → the delivery seen) is back to its baseline within the bound.
func TestRoundTripBackToBaselineAfterServerRestart(t *testing.T) {
	ns := startServer(t)
	b := connect(t, ns.url(), "restart-proc")
	ctx := context.Background()
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	bucket, err := kv.Open(ctx, b.JetStream(), kv.Config{Bucket: "test_restart_state"})
	if err != nil {
		t.Fatal(err)
	}
	counts := kv.Typed[int](bucket)
	p := bus.FromSpec(spec(t, "ai", "restart-echo"), func(ctx context.Context, m *bus.Msg) error {
		if _, err := counts.Update(ctx, "n", func(n int, _ bool) (int, error) { return n + 1, nil }); err != nil {
			return bus.Retry(err)
		}
		_, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "answer", schemas.TypeOutPost,
			schemas.OutPost{Text: "echo"})
		return err
	})
	run(t, b, p)
	// And a pinned, keyed consumer of the answers (as egress is) that
	// reports each delivery, on a connection of its own.
	eb := connect(t, ns.url(), "restart-egress")
	out := bus.FromSpec(spec(t, "egress", "restart-deliver"), func(ctx context.Context, m *bus.Msg) error {
		_, err := m.Publish(ctx, schemas.DeliveredSubject(m.Env.Team, m.Env.Channel), "delivered", schemas.TypeDelivered,
			schemas.Delivered{CommandID: m.Env.ID})
		return err
	})
	out.Stream, out.Subjects = schemas.StreamOut, []string{schemas.SubjectOutAll}
	out.Pinned, out.PinnedTTL = true, schemas.EgressPinnedTTL
	out.Key = func(m *bus.Msg) string { return m.Env.Channel }
	run(t, eb, out)

	// The client sends questions and waits for answers on its own connection.
	client := connect(t, ns.url(), "restart-client")
	answers := make(chan string, 64)
	sub, err := client.Conn().Subscribe(schemas.SubjectDeliveredAll, func(msg *nats.Msg) {
		if env, err := schemas.Decode(msg.Data); err == nil {
			answers <- env.CorrelationID
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	seq := 0
	// roundTrip sends one question and returns how long its answer took,
	// or false when none came within 2 s (then the question is abandoned).
	roundTrip := func() (time.Duration, bool) {
		seq++
		id := fmt.Sprintf("Ev-rt-%d", seq)
		env, err := schemas.New(id, schemas.TypeSlackMessage, "test", schemas.SlackMessage{TS: "1.0", Text: id})
		if err != nil {
			t.Fatal(err)
		}
		env.Team, env.Channel = "T1", "C1"
		start := time.Now()
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := client.Publish(pctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
			return 0, false
		}
		for {
			select {
			case got := <-answers:
				if got == env.CorrelationID {
					return time.Since(start), true
				}
			case <-pctx.Done():
				return 0, false
			}
		}
	}
	var base []time.Duration
	for range 20 {
		d, ok := roundTrip()
		if !ok {
			t.Fatal("no answer before the restart")
		}
		base = append(base, d)
	}
	slices.Sort(base)
	baseline := base[len(base)/2]
	t.Logf("baseline round trip (median of 20): %s", baseline)

	ns.stop()
	time.Sleep(time.Second) // down for a moment, as a restart takes
	ns.start()
	restarted := time.Now()

	// Back to baseline: a run of consecutive fast round trips.
	const fast, run = 200 * time.Millisecond, 10
	var recovered time.Duration
	streak := 0
	var trace []string
	for time.Since(restarted) < 4*failoverBound && streak < run {
		d, ok := roundTrip()
		if ok && d < fast {
			if streak == 0 {
				recovered = time.Since(restarted) - d
			}
			streak++
		} else {
			streak = 0
		}
		if ok {
			trace = append(trace, d.Round(time.Millisecond).String())
		} else {
			trace = append(trace, "lost")
		}
	}
	t.Logf("round trips after the restart: %v", trace)
	if streak < run {
		t.Fatalf("round trips not back under %s within %s of the restart", fast, 4*failoverBound)
	}
	t.Logf("back to baseline %s after the restart", recovered.Round(time.Millisecond))
	if recovered > failoverBound {
		t.Fatalf("round trips back under %s only %s after the restart, want within %s", fast, recovered, failoverBound)
	}
}
