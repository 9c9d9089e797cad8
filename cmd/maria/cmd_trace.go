package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/mariahq/maria/cmd/maria/ops"
)

func init() {
	register("trace", "every message of one conversation turn, in order, with per-hop latency", cmdTrace)
}

func cmdTrace(args []string) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	since := fs.String("since", "24h", "how far back to search: a duration (24h, 3d) or an RFC3339 time")
	asJSON := fs.Bool("json", false, "print JSON")
	noColor := fs.Bool("no-color", false, "no ANSI colours")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: maria trace CORRELATION_ID [--since 24h] [--json]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("want exactly one correlation id")
	}
	from, err := ops.ParseTime(*since, time.Now())
	if err != nil {
		return err
	}
	ctx, stop := opsContext()
	defer stop()
	b, err := connectOps(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	hops, err := ops.Trace(ctx, b.JS, pos[0], from, ops.TraceStreams())
	if err != nil {
		return err
	}
	if *asJSON {
		return ops.JSON(os.Stdout, hops)
	}
	if len(hops) == 0 {
		return fmt.Errorf("no message with correlation id %s since %s", pos[0], from.UTC().Format(time.RFC3339))
	}
	ops.PrintTrace(os.Stdout, hops, useColor(*noColor))
	return nil
}
