package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mariahq/maria/cmd/maria/ops"
)

func init() {
	register("tail", "live decoded view of messages: maria tail [SUBJECT] [--headers] [--raw]", cmdTail)
}

func cmdTail(args []string) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	headers := fs.Bool("headers", false, "print every header")
	raw := fs.Bool("raw", false, "print the raw body")
	noColor := fs.Bool("no-color", false, "no ANSI colours (default: colours when stdout is a terminal)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: maria tail [SUBJECT] [--headers] [--raw] [--no-color]\nSUBJECT defaults to maria.> (wildcards * and > allowed)")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	subject := "maria.>"
	switch len(pos) {
	case 0:
	case 1:
		subject = pos[0]
	default:
		return fmt.Errorf("one subject, got %d arguments", len(pos))
	}
	ctx, stop := opsContext()
	defer stop()
	b, err := connectOps(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(os.Stderr, "tailing %s on %s (Ctrl-C to stop)\n", subject, ops.Where(b))
	return ops.Tail(ctx, b.NC, subject, os.Stdout, ops.TailOptions{Headers: *headers, Raw: *raw, Color: useColor(*noColor), Width: termWidth() - 40})
}
