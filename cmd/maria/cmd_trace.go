package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

func newTraceCmd(c *cli) *cobra.Command {
	var since string
	var asJSON, noColor bool
	cmd := &cobra.Command{
		Use:   "trace TURN_ID|SLACK_EVENT_ID|MESSAGE_TS [--since 24h] [--json]",
		Short: "every message of one conversation turn, in order, with per-hop latency",
		Long: "trace follows one user turn through every stream. Give its turn id (t-…, the correlation id\n" +
			"in logs and tail), the Slack event id (Ev…) or command/click id ingress published, or the ts\n" +
			"of the user's message: trace finds the turn.",
		Args: exactArgs(1, "exactly one correlation id"),
		RunE: func(_ *cobra.Command, args []string) error {
			from, err := ops.ParseTime(since, time.Now())
			if err != nil {
				return usageError{err}
			}
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				turn, err := ops.ResolveTurn(ctx, b.JetStream(), args[0], from)
				if err != nil {
					return err
				}
				hops, err := ops.Trace(ctx, b.JetStream(), turn, from, ops.TraceStreams())
				if err != nil {
					return err
				}
				if len(hops) == 0 && !asJSON {
					return fmt.Errorf("no message with correlation id %s since %s", turn, from.UTC().Format(time.RFC3339))
				}
				return c.console(noColor).Emit(asJSON, hops, func(w io.Writer) {
					if turn != args[0] {
						fmt.Fprintf(w, "turn %s (found from %s)\n\n", turn, args[0])
					}
					ops.PrintTrace(w, hops, c.useColor(noColor))
				})
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "24h", "how far back to search: a duration (24h, 3d) or an RFC3339 time")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no ANSI colours")
	return cmd
}
