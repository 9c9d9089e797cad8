package main

import (
	"context"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
	"github.com/spf13/cobra"
)

const dlqLong = `Dead letters: messages a service gave up on, kept in MARIA_DLQ.
SEQ is the dead letter's sequence in MARIA_DLQ (see list). A filter without SEQs selects every
dead letter it matches. T is RFC3339 or a duration ago (2h).`

func newDLQCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq list|show|redrive|purge",
		Short: "dead letters: maria dlq list|show|redrive|purge",
		Long:  dlqLong,
		Args:  cobra.ArbitraryArgs,
		RunE:  unknownCommand,
	}
	cmd.AddCommand(newDLQListCmd(c), newDLQShowCmd(c), newDLQActionCmd(c, false), newDLQActionCmd(c, true))
	return cmd
}

// dlqFilters are the flags that select dead letters by origin and age.
type dlqFilters struct {
	stream, consumer, since string
	asJSON                  bool
}

func (f *dlqFilters) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.stream, "stream", "", "only dead letters of this stream (e.g. MARIA_IN)")
	cmd.Flags().StringVar(&f.consumer, "consumer", "", "only dead letters of this consumer (e.g. ai)")
	cmd.Flags().StringVar(&f.since, "since", "", "only dead letters stored since this time (RFC3339 or a duration ago: 2h)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	_ = cmd.RegisterFlagCompletionFunc("stream", completeStreams)
}

func (f *dlqFilters) selection() (ops.DLQSelection, error) {
	since, err := ops.ParseTime(f.since, time.Now())
	if err != nil {
		return ops.DLQSelection{}, usageError{err}
	}
	return ops.DLQSelection{Stream: f.stream, Consumer: f.consumer, Since: since}, nil
}

func newDLQListCmd(c *cli) *cobra.Command {
	var f dlqFilters
	cmd := &cobra.Command{
		Use:     "list [--stream S] [--consumer C] [--since T] [--json]",
		Aliases: []string{"ls"},
		Short:   "dead letters: DLQ seq, time, original subject, stream/consumer, deliveries, reason",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			sel, err := f.selection()
			if err != nil {
				return err
			}
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				return ops.DLQList(ctx, b.JetStream(), sel, c.console(false), f.asJSON)
			})
		},
	}
	f.bind(cmd)
	return cmd
}

func newDLQShowCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show SEQ [--json]",
		Short: "one dead letter: headers and decoded envelope",
		Args:  exactArgs(1, "one sequence number"),
		RunE: func(_ *cobra.Command, args []string) error {
			seqs, err := ops.ParseSeqs(args)
			if err != nil {
				return usageError{err}
			}
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				return ops.DLQShow(ctx, b.JetStream(), seqs[0], c.console(false), asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// newDLQActionCmd is `maria dlq redrive` or, purge, `maria dlq purge`.
func newDLQActionCmd(c *cli, purge bool) *cobra.Command {
	var f dlqFilters
	a := ops.DLQAction{Purge: purge}
	cmd := &cobra.Command{
		Use:   "redrive (SEQ... | --all | [--stream S] [--consumer C] [--since T]) [--dry-run] [--yes]",
		Short: "return dead letters to their original subject, once",
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			var err error
			all := a.Sel.All
			if a.Sel, err = f.selection(); err != nil {
				return err
			}
			a.Sel.All, a.JSON = all, f.asJSON
			if a.Sel.Seqs, err = ops.ParseSeqs(args); err != nil {
				return usageError{err}
			}
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				return ops.RunDLQAction(ctx, b, a, c.console(false))
			})
		},
	}
	if purge {
		cmd.Use, cmd.Short = "purge"+cmd.Use[len("redrive"):], "delete dead letters for good"
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&a.Sel.All, "all", false, "every dead letter (of --stream/--consumer/--since if given)")
	cmd.Flags().BoolVar(&a.DryRun, "dry-run", false, "list what would be done, do nothing")
	cmd.Flags().BoolVar(&a.Yes, "yes", false, "do not ask for confirmation")
	return cmd
}

// completeStreams offers Maria's stream names to --stream.
func completeStreams(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{schemas.StreamIn, schemas.StreamOut, schemas.StreamERP, schemas.StreamStored, schemas.StreamDelivered, schemas.StreamDLQ, schemas.StreamAudit},
		cobra.ShellCompDirectiveNoFileComp
}
