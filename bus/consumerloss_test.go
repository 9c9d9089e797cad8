package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/health"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// readyz serves b's consumer checks the way `maria run` does and returns a
// func that reads /readyz: its status and its checks.
func readyz(t *testing.T, b *bus.Bus) func() (int, map[string]string) {
	t.Helper()
	h := health.New(bustest.Logger(t))
	h.AddCheckSource(b.ConsumerChecks)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- h.Serve(ctx, "127.0.0.1:0", addr) }()
	t.Cleanup(func() { cancel(); <-done })
	url := "http://" + <-addr + "/readyz"
	return func() (int, map[string]string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Checks map[string]string `json:"checks"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body.Checks
	}
}

func setMaxConsumers(t *testing.T, b *bus.Bus, n int) {
	t.Helper()
	cfg := bus.StreamConfig(schemas.Streams[0], 1)
	cfg.MaxConsumers = n
	if _, err := b.JetStream().UpdateStream(context.Background(), cfg); err != nil {
		t.Fatalf("set MaxConsumers %d: %v", n, err)
	}
}

func TestDeletedConsumerTurnsReadyzRedAndIsRecreated(t *testing.T) {
	b := bustest.New(t)
	ctx := context.Background()
	var mu sync.Mutex
	handled := map[string]bool{}
	run(t, b, proc("lossy", func(_ context.Context, m *bus.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		handled[m.Env.ID] = true
		return nil
	}))
	was := func(id string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return handled[id] }
	}
	ready := readyz(t, b)
	const check = "consumer " + schemas.StreamIn + "/lossy"
	publish(t, b, "Ev-before", "x")
	bustest.Eventually(t, 10*time.Second, was("Ev-before"), "handled before the loss")
	if code, checks := ready(); code != http.StatusOK || checks[check] != "ok" {
		t.Fatalf("/readyz before the loss: %d %v", code, checks)
	}

	// Hold the re-creation off: another consumer fills the stream's
	// consumer limit, so the lost one cannot come back until it is lifted.
	if _, err := b.JetStream().CreateOrUpdateConsumer(ctx, schemas.StreamIn, jetstream.ConsumerConfig{Durable: "squatter", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	setMaxConsumers(t, b, 1)
	if err := b.JetStream().DeleteConsumer(ctx, schemas.StreamIn, "lossy"); err != nil {
		t.Fatal(err)
	}
	var checks map[string]string
	bustest.Eventually(t, 15*time.Second, func() bool {
		var code int
		code, checks = ready()
		// Red at once with the cause; then also why re-creating it fails.
		return code == http.StatusServiceUnavailable && strings.HasPrefix(checks[check], "lost: nats: consumer deleted") &&
			strings.Contains(checks[check], "maximum consumers")
	}, "/readyz reports the lost consumer and why it is not back")

	setMaxConsumers(t, b, -1)
	bustest.Eventually(t, 15*time.Second, func() bool {
		code, checks := ready()
		return code == http.StatusOK && checks[check] == "ok"
	}, "/readyz green once the consumer is re-created")
	if _, err := b.JetStream().Consumer(ctx, schemas.StreamIn, "lossy"); err != nil {
		t.Fatalf("consumer not re-created: %v", err)
	}
	publish(t, b, "Ev-after", "x")
	bustest.Eventually(t, 10*time.Second, was("Ev-after"), "messages flow again")
}

// A stream that disappears cannot be restored by a processor: Run (and
// every processor of the service with it) returns an error, and the check
// stays red while the process goes down.
func TestDeletedStreamStopsTheServiceWithAnError(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	noop := func(context.Context, *bus.Msg) error { return nil }
	out := proc("bystander", noop)
	out.Stream, out.Subjects = schemas.StreamOut, []string{"maria.out.>"}
	done := make(chan error, 1)
	go func() { done <- bus.Processors(b, proc("orphan", noop), out).Run(ctx) }()
	bustest.Eventually(t, 5*time.Second, func() bool { return len(b.ConsumerChecks()) == 2 }, "both consumers running")

	if err := b.JetStream().DeleteStream(context.Background(), schemas.StreamIn); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, jetstream.ErrStreamNotFound) || !strings.Contains(err.Error(), "orphan") {
			t.Fatalf("service returned %v, want the orphan's stream-not-found error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the service idles on a deleted stream")
	}
	c := b.ConsumerChecks()["consumer "+schemas.StreamIn+"/orphan"]
	if c == nil || c(context.Background()) == nil {
		t.Fatal("the lost consumer's check is not red after Run gave up")
	}
	if _, ok := b.ConsumerChecks()["consumer "+schemas.StreamOut+"/bystander"]; ok {
		t.Error("the bystander stopped cleanly but is still listed")
	}
}
