// Command compare is `make bench-compare`: Maria measured side by side
// with what she is built on and with the frameworks she could have been
// built on, on the same machine in one run. Each trial gets a fresh
// nats-server (file storage, temporary directory); variants are
// interleaved, their order rotating from one repetition to the next, so
// machine noise falls on all of them alike; medians, spread and ratios
// are printed as a markdown table, and with -results (BENCH_RESULTS) written
// into RESULTS.md's bench-compare section.
//
// Ratios are reported, never asserted: timed tests do not decide builds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"
)

func main() {
	var c runConfig
	flag.IntVar(&c.reps, "reps", 3, "repetitions of every variant")
	flag.IntVar(&c.ingressEvents, "ingress-events", 20_000, "events posted per ingress trial")
	flag.IntVar(&c.hopMessages, "hop-messages", 50_000, "messages drained per processor-hop trial")
	flag.StringVar(&c.repo, "repo", "", "repository root (default: found above the working directory)")
	flag.StringVar(&c.results, "results", os.Getenv("BENCH_RESULTS"), "RESULTS.md to write the table into (default $BENCH_RESULTS; empty: stdout only)")
	flag.Float64Var(&c.turnRate, "turn-rate", 100, "turns per second offered in each whole-turn trial (0: none)")
	flag.DurationVar(&c.turnFor, "turn-for", 10*time.Second, "how long each whole-turn trial offers turns")
	flag.IntVar(&c.sandboxEvents, "sandbox-events", 2000, "events recorded, then replayed into a sandbox, per sandbox-replay trial (0: none)")
	flag.StringVar(&c.only, "only", "", "run only the variants whose name contains this")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-compare:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, c, os.Stdout, os.Stderr); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench-compare:", err)
		os.Exit(1)
	}
}
