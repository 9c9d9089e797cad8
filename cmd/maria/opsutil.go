package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/ops"
)

// cli is the process' stdio as the commands see it; tests run the command
// tree in-process with buffers.
type cli struct {
	in          io.Reader
	out, errOut io.Writer
	// inTTY: stdin is a terminal (questions can be asked, the chat prompt
	// shows); outTTY: stdout is one (colours); errTTY: stderr is one
	// (progress bars).
	inTTY, outTTY, errTTY bool
}

func processIO() *cli {
	return &cli{in: os.Stdin, out: os.Stdout, errOut: os.Stderr,
		inTTY: ops.IsTerminal(os.Stdin), outTTY: ops.IsTerminal(os.Stdout), errTTY: ops.IsTerminal(os.Stderr)}
}

// console is what an ops command prints to and asks on.
func (c *cli) console(noColor bool) ops.Console {
	return ops.Console{Out: c.out, Err: c.errOut, In: c.in, Interactive: c.inTTY, Color: c.useColor(noColor), Width: termWidth()}
}

// useColor: a terminal on stdout and no --no-color / NO_COLOR.
func (c *cli) useColor(noColor bool) bool {
	return !noColor && os.Getenv("NO_COLOR") == "" && c.outTTY
}

func termWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 40 {
		return n
	}
	return 160
}

// signalContext ends on Ctrl-C / SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// withBus runs fn on the bus an operator command works on (see ops.Connect:
// NATS_URL, a running maria, or an existing data dir — never a new one),
// until Ctrl-C.
func (c *cli) withBus(fn func(context.Context, *bus.Bus) error) error {
	ctx, stop := signalContext()
	defer stop()
	b, err := ops.Connect(ctx, config.NewEnv(), c.errOut)
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(ctx, b)
}
