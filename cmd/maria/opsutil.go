package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/cmd/maria/ops"
)

// parseInterleaved parses flags that may come before or after positional
// arguments (`maria dlq redrive 12 13 --yes`) and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// opsContext ends on Ctrl-C / SIGTERM.
func opsContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// connectOps reaches NATS_URL, a running maria's embedded server, or the
// data dir (see ops.Connect).
func connectOps(ctx context.Context) (*bus.Bus, error) {
	return ops.Connect(ctx, bus.NewEnv(), os.Stderr)
}

// confirm asks on the terminal unless yes; without a terminal it refuses.
func confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	if !ops.IsTerminal(os.Stdin) {
		return errors.New("stdin is not a terminal: pass --yes to confirm")
	}
	return ops.Confirm(os.Stdin, os.Stderr, question)
}

func parseSeqs(args []string) ([]uint64, error) {
	seqs := make([]uint64, 0, len(args))
	for _, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a sequence number", a)
		}
		seqs = append(seqs, n)
	}
	return seqs, nil
}

// useColor: a terminal on stdout and no --no-color / NO_COLOR.
func useColor(noColor bool) bool {
	return !noColor && os.Getenv("NO_COLOR") == "" && ops.IsTerminal(os.Stdout)
}

func termWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 40 {
		return n
	}
	return 160
}
