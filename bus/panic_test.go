package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

type order struct{ lines []string }

// firstLine dereferences a nil order when called with one: a real runtime
// panic, reached through a helper, so the stack has frames to name.
func firstLine(o *order) string { return o.lines[0] }

func panickyHandler(ctx context.Context, m *bus.Msg) error {
	var o *order
	_ = firstLine(o)
	return nil
}

func TestPanicDeadLetterCarriesTheStack(t *testing.T) {
	b := bustest.New(t)
	run(t, b, proc("panicky", panickyHandler))
	publish(t, b, "Ev-panic", "x")
	var dl []*jetstream.RawStreamMsg
	bustest.Eventually(t, 10*time.Second, func() bool { dl = dlqMessages(t, b); return len(dl) == 1 }, "one dead letter")
	stack := dl[0].Header.Get(schemas.HeaderDLQStack)
	t.Logf("stack: %s", stack)
	if !strings.HasPrefix(stack, "github.com/mariahq/maria/bus_test.firstLine (panic_test.go:") {
		t.Errorf("stack does not start at the panicking function: %q", stack)
	}
	if !strings.Contains(stack, "bus_test.panickyHandler (panic_test.go:") {
		t.Errorf("stack does not name the handler: %q", stack)
	}
	if strings.Contains(stack, "runtime.") || strings.ContainsAny(stack, "\r\n") || len(stack) > 2100 {
		t.Errorf("stack is not trimmed to the handler's frames on one line: %q", stack)
	}
	if r := dl[0].Header.Get(schemas.HeaderDLQReason); !strings.Contains(r, "handler panic") || !strings.Contains(r, "nil pointer") {
		t.Errorf("reason %q", r)
	}
	if got := bus.ParseDeadLetter(dl[0].Header, dl[0].Data); got.Stack != stack {
		t.Errorf("parsed stack %q, want %q", got.Stack, stack)
	}
}

// A deep recursion is cut, not copied into a header whole.
func TestPanicStackIsBounded(t *testing.T) {
	b := bustest.New(t)
	var deep func(n int) int
	deep = func(n int) int {
		if n == 0 {
			panic("bottom")
		}
		return deep(n-1) + 1
	}
	run(t, b, proc("deep", func(context.Context, *bus.Msg) error { deep(500); return nil }))
	publish(t, b, "Ev-deep", "x")
	var dl []*jetstream.RawStreamMsg
	bustest.Eventually(t, 10*time.Second, func() bool { dl = dlqMessages(t, b); return len(dl) == 1 }, "one dead letter")
	stack := dl[0].Header.Get(schemas.HeaderDLQStack)
	if len(stack) > 2100 || !strings.HasSuffix(stack, " < …") || !strings.Contains(stack, "TestPanicStackIsBounded") {
		t.Errorf("stack of %d bytes not cut to size: %q", len(stack), stack)
	}
}
