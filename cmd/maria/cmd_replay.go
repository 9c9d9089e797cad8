package main

import (
	"context"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

const replayLong = `Replays a window of a stream.
TIME is RFC3339 (2026-11-23T10:00:00Z) or a duration ago (15m, 2h, 3d).
--to sandbox (default) replays into an isolated embedded server where the services run with every
side effect disabled, then prints what they produced next to what the original run produced, the
sandbox's dead letters and a one-line verdict; it exits 1 unless every service ran and the outputs
match. Against a demo, the sandbox runs with the demo's configuration (its simulators); --simulate
runs it on OpenAI and Odoo simulators of its own.
--to original re-drives the messages into the live pipeline with new message ids and a Maria-Replay header.`

func newReplayCmd(c *cli) *cobra.Command {
	var r ops.ReplayRequest
	var noColor bool
	cmd := &cobra.Command{
		Use: `replay --stream S [--subject FILTER] (--since TIME | --from-seq N) [--until TIME | --to-seq N]
                    [--speed instant|original|Nx] [--to sandbox|original] [--dry-run] [--yes]`,
		Short: "replay a window of a stream into a sandbox (default) or the live pipeline",
		Long:  replayLong,
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			r.Progress = r.Progress || c.errTTY
			p, err := ops.PlanReplay(r, time.Now())
			if err != nil {
				return usageError{err}
			}
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				return ops.RunReplay(ctx, b, p, c.console(noColor))
			})
		},
	}
	bindReplayFlags(cmd, &r)
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no ANSI colours")
	return cmd
}

func bindReplayFlags(cmd *cobra.Command, r *ops.ReplayRequest) {
	fl := cmd.Flags()
	fl.StringVar(&r.Stream, "stream", "", "stream to replay (MARIA_IN, MARIA_OUT, ...)")
	fl.StringVar(&r.Subject, "subject", "", "only messages on this subject (wildcards allowed)")
	fl.StringVar(&r.Since, "since", "", "start time")
	fl.StringVar(&r.Until, "until", "", "end time (default: now)")
	fl.Uint64Var(&r.FromSeq, "from-seq", 0, "start sequence")
	fl.Uint64Var(&r.ToSeq, "to-seq", 0, "end sequence (inclusive; default: the last one)")
	fl.StringVar(&r.Speed, "speed", "instant", "instant, original (the original gaps) or Nx (N times faster)")
	fl.StringVar(&r.To, "to", "sandbox", "sandbox or original")
	fl.BoolVar(&r.DryRun, "dry-run", false, "list the selected messages, publish nothing")
	fl.BoolVar(&r.Yes, "yes", false, "do not ask for confirmation (required without a terminal)")
	fl.StringVar(&r.RunID, "run-id", "", "replay run id (default: new); reuse it when resuming an interrupted original replay")
	fl.StringVar(&r.Services, "services", "", "sandbox: comma-separated services to run (default: all configurable except ingress)")
	fl.DurationVar(&r.Timeout, "timeout", 2*time.Minute, "sandbox: how long to wait for the services to settle")
	fl.DurationVar(&r.Quiet, "quiet", ops.DefaultSandboxQuiet, "sandbox: how long the sandbox must stay idle (every consumer caught up, no stream growing) to be done")
	fl.BoolVar(&r.Progress, "progress", false, "show the progress bar even when stderr is not a terminal")
	fl.BoolVar(&r.Verbose, "verbose", false, "sandbox: print the sandbox services' logs on stderr")
	fl.BoolVar(&r.JSON, "json", false, "print JSON")
	fl.BoolVar(&r.Simulate, "simulate", false, "sandbox: run on OpenAI and Odoo simulators instead of the model and Odoo of the environment")
	_ = cmd.RegisterFlagCompletionFunc("stream", completeStreams)
	_ = cmd.RegisterFlagCompletionFunc("to", cobra.FixedCompletions([]string{"sandbox", "original"}, cobra.ShellCompDirectiveNoFileComp))
}
