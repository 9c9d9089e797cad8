package main

import (
	"flag"
	"os"

	"github.com/mariahq/maria/cmd/maria/ops"
)

func init() {
	register("streams", "streams and consumers: messages, pending, redelivered, ack floor lag, DLQ size", cmdStreams)
}

func cmdStreams(args []string) error {
	fs := flag.NewFlagSet("streams", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	declare := fs.Bool("declare", false, "create or update Maria's streams first (operator credentials), for services run with MARIA_DECLARE_STREAMS=false")
	fs.Usage = func() { fs.Output().Write([]byte("usage: maria streams [--declare] [--json]\n")); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := opsContext()
	defer stop()
	b, err := connectOps(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	if *declare {
		if err := b.EnsureStreams(ctx); err != nil {
			return err
		}
	}
	st, err := ops.Streams(ctx, b.JS)
	if err != nil {
		return err
	}
	if *asJSON {
		return ops.JSON(os.Stdout, st)
	}
	ops.PrintStreams(os.Stdout, st)
	return nil
}
