package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mariahq/maria/cmd/maria/ops"
)

func init() {
	register("replay", "replay a window of a stream into a sandbox (default) or the live pipeline", cmdReplay)
}

const replayUsage = `usage: maria replay --stream S [--subject FILTER] (--since TIME | --from-seq N) [--until TIME | --to-seq N]
                    [--speed instant|original|Nx] [--to sandbox|original] [--dry-run] [--yes]
TIME is RFC3339 (2026-11-23T10:00:00Z) or a duration ago (15m, 2h, 3d).
--to sandbox (default) replays into an isolated embedded server where the services run with every
side effect disabled, then prints what they produced next to what the original run produced.
--to original re-drives the messages into the live pipeline with new message ids and a Maria-Replay header.`

func cmdReplay(args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	stream := fs.String("stream", "", "stream to replay (MARIA_IN, MARIA_OUT, ...)")
	subject := fs.String("subject", "", "only messages on this subject (wildcards allowed)")
	since := fs.String("since", "", "start time")
	until := fs.String("until", "", "end time (default: now)")
	fromSeq := fs.Uint64("from-seq", 0, "start sequence")
	toSeq := fs.Uint64("to-seq", 0, "end sequence (inclusive; default: the last one)")
	speed := fs.String("speed", "instant", "instant, original (the original gaps) or Nx (N times faster)")
	to := fs.String("to", "sandbox", "sandbox or original")
	dryRun := fs.Bool("dry-run", false, "list the selected messages, publish nothing")
	yes := fs.Bool("yes", false, "do not ask for confirmation (required without a terminal)")
	runID := fs.String("run-id", "", "replay run id (default: new); reuse it when resuming an interrupted original replay")
	services := fs.String("services", "", "sandbox: comma-separated services to run (default: all configurable except ingress)")
	timeout := fs.Duration("timeout", 2*time.Minute, "sandbox: how long to wait for the services to settle")
	quiet := fs.Duration("quiet", time.Second, "sandbox: how long the sandbox must stay idle to be done")
	progress := fs.Bool("progress", false, "show the progress bar even when stderr is not a terminal")
	verbose := fs.Bool("verbose", false, "sandbox: print the sandbox services' logs on stderr")
	asJSON := fs.Bool("json", false, "print JSON")
	noColor := fs.Bool("no-color", false, "no ANSI colours")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), replayUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *stream == "" {
		return errors.New("--stream is required")
	}
	if (*since == "") == (*fromSeq == 0) {
		return errors.New("give exactly one of --since or --from-seq")
	}
	mode := ops.ToSandbox
	switch *to {
	case "sandbox":
	case "original":
		mode = ops.ToOriginal
	default:
		return fmt.Errorf("--to %q: want sandbox or original", *to)
	}
	now := time.Now()
	w := ops.Window{Subject: *subject, FromSeq: *fromSeq, ToSeq: *toSeq}
	var err error
	if w.Since, err = ops.ParseTime(*since, now); err != nil {
		return err
	}
	if w.Until, err = ops.ParseTime(*until, now); err != nil {
		return err
	}
	if err := w.Validate(); err != nil {
		return err
	}
	factor, err := ops.ParseSpeed(*speed)
	if err != nil {
		return err
	}
	if *runID == "" {
		*runID = ops.NewRunID(now)
	}

	ctx, stop := opsContext()
	defer stop()
	b, err := connectOps(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	sel, err := ops.Select(ctx, b.JS, *stream, w)
	if err != nil {
		return err
	}
	if len(sel) == 0 {
		fmt.Fprintf(os.Stderr, "no message of %s in that window\n", *stream)
		return nil
	}
	fmt.Fprintf(os.Stderr, "%d message(s) of %s selected: seq %d..%d, %s .. %s\n", len(sel), *stream, sel[0].Sequence, sel[len(sel)-1].Sequence,
		sel[0].Time.UTC().Format(time.RFC3339), sel[len(sel)-1].Time.UTC().Format(time.RFC3339))
	if *dryRun {
		if *asJSON {
			return ops.JSON(os.Stdout, sel)
		}
		ops.PrintSelection(os.Stdout, sel)
		return nil
	}
	ro := ops.ReplayOptions{Mode: mode, RunID: *runID, Speed: factor}
	if *progress || ops.IsTerminal(os.Stderr) {
		ro.Progress = os.Stderr
	}
	resume := func(r ops.ReplayResult, err error) error {
		if r.Resume > 0 {
			fmt.Fprintf(os.Stderr, "\nstopped after %d of %d message(s); to resume: maria replay --stream %s --from-seq %d", r.Published+r.Duplicates, len(sel), *stream, r.Resume)
			if *toSeq > 0 {
				fmt.Fprintf(os.Stderr, " --to-seq %d", *toSeq)
			} else {
				fmt.Fprintf(os.Stderr, " --to-seq %d", sel[len(sel)-1].Sequence)
			}
			if *subject != "" {
				fmt.Fprintf(os.Stderr, " --subject %s", *subject)
			}
			fmt.Fprintf(os.Stderr, " --to %s --run-id %s\n", *to, *runID)
		}
		if errors.Is(err, context.Canceled) {
			return errors.New("interrupted")
		}
		return err
	}

	if mode == ops.ToOriginal {
		if err := confirm(*yes, fmt.Sprintf("Re-drive %d message(s) of %s into the LIVE pipeline (run %s)? Processors will handle them again, with real effects.", len(sel), *stream, *runID)); err != nil {
			return err
		}
		res, err := ops.Replay(ctx, b.JS, *stream, sel, b, ro)
		if err != nil {
			return resume(res, err)
		}
		if *asJSON {
			return ops.JSON(os.Stdout, res)
		}
		fmt.Printf("replay %s: %d message(s) republished to the live pipeline, %d duplicate(s) dropped\n", res.RunID, res.Published, res.Duplicates)
		if res.Skipped > 0 {
			fmt.Printf("skipped %d ERP command(s) (maria.erp.command.>): a confirmed write is never executed twice; to retry a failed one, re-drive its dead letter\n", res.Skipped)
		}
		return nil
	}

	var logOut io.Writer
	if *verbose {
		logOut = os.Stderr
	}
	so := ops.SandboxReplayOptions{Sandbox: ops.SandboxOptions{Environ: ops.Environ(), LogOutput: logOut}, Replay: ro, Quiet: *quiet, Timeout: *timeout}
	if *services != "" {
		for _, s := range strings.Split(*services, ",") {
			if s = strings.TrimSpace(s); s != "" {
				so.Sandbox.Services = append(so.Sandbox.Services, s)
			}
		}
	}
	rep, err := ops.SandboxReplay(ctx, b, *stream, sel, so)
	if err != nil {
		if rep != nil {
			return resume(rep.Replay, err)
		}
		return err
	}
	if *asJSON {
		return ops.JSON(os.Stdout, rep)
	}
	ops.PrintSandboxReport(os.Stdout, rep, termWidth(), useColor(*noColor))
	return nil
}
