package bus_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// A processor's own middleware runs around its handler, in order (the
// first outermost), inside the runtime's: it sees the message's
// correlation id on the context and its failures get the runtime's verdict.
func TestProcessorMiddlewareRunsInsideTheRuntime(t *testing.T) {
	b := bustest.New(t)
	var mu sync.Mutex
	var calls []string
	var correlations []string
	trace := func(name string) bus.Middleware {
		return func(next bus.Handler) bus.Handler {
			return func(ctx context.Context, m *bus.Msg) error {
				mu.Lock()
				calls = append(calls, name+">")
				if name == "outer" {
					correlations = append(correlations, telemetry.Correlation(ctx)+"="+m.Env.CorrelationID)
				}
				mu.Unlock()
				err := next(ctx, m)
				mu.Lock()
				calls = append(calls, "<"+name)
				mu.Unlock()
				return err
			}
		}
	}
	p := proc("withmw", func(ctx context.Context, m *bus.Msg) error {
		mu.Lock()
		calls = append(calls, "handler")
		mu.Unlock()
		return nil
	})
	p.Middleware = []bus.Middleware{trace("outer"), trace("inner")}
	run(t, b, p)
	publish(t, b, "Ev-mw", "x")
	bustest.Eventually(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 5 }, "middleware and handler ran")
	bustest.Eventually(t, 10*time.Second, func() bool { return ackPending(t, b, "withmw") == 0 }, "acked")
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(calls, " "); got != "outer> inner> handler <inner <outer" {
		t.Errorf("order %q", got)
	}
	if len(correlations) != 1 || correlations[0] != "Ev-mw=Ev-mw" {
		t.Errorf("correlation on the middleware's context: %v", correlations)
	}
}

// A processor middleware that panics is recovered like its handler: dead
// letter with the stack.
func TestPanicInProcessorMiddlewareIsDeadLettered(t *testing.T) {
	b := bustest.New(t)
	p := proc("panickymw", func(context.Context, *bus.Msg) error { return nil })
	p.Middleware = []bus.Middleware{func(next bus.Handler) bus.Handler {
		return func(ctx context.Context, m *bus.Msg) error { return panickyHandler(ctx, m) }
	}}
	run(t, b, p)
	publish(t, b, "Ev-panicmw", "x")
	var dl []*jetstream.RawStreamMsg
	bustest.Eventually(t, 10*time.Second, func() bool { dl = dlqMessages(t, b); return len(dl) == 1 }, "one dead letter")
	if stack := dl[0].Header.Get(schemas.HeaderDLQStack); !strings.Contains(stack, "bus_test.panickyHandler (panic_test.go:") {
		t.Errorf("stack %q", stack)
	}
}

// Chain applies the first middleware outermost.
func TestChainOrder(t *testing.T) {
	var got []string
	mw := func(name string) bus.Middleware {
		return func(next bus.Handler) bus.Handler {
			return func(ctx context.Context, m *bus.Msg) error { got = append(got, name); return next(ctx, m) }
		}
	}
	h := bus.Chain(func(context.Context, *bus.Msg) error { got = append(got, "h"); return nil }, mw("a"), mw("b"))
	if err := h(context.Background(), &bus.Msg{}); err != nil || strings.Join(got, "") != "abh" {
		t.Errorf("got %v, %v", got, err)
	}
}
