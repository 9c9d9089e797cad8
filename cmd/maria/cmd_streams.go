package main

import (
	"context"
	"io"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

func newStreamsCmd(c *cli) *cobra.Command {
	var asJSON, declare, all bool
	cmd := &cobra.Command{
		Use:   "streams [--all] [--declare] [--json]",
		Short: "streams and consumers: messages, lag (pending + unacknowledged), redelivered, DLQ size",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				if declare {
					if err := b.EnsureStreams(ctx); err != nil {
						return err
					}
				}
				st, err := ops.Streams(ctx, b.JetStream(), all)
				if err != nil {
					return err
				}
				return c.console(false).Emit(asJSON, st, func(w io.Writer) { ops.PrintStreams(w, st) })
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&all, "all", false, "also the KV_ and OBJ_ streams behind key-value buckets and object stores")
	cmd.Flags().BoolVar(&declare, "declare", false, "create or update Maria's streams first (operator credentials), for services run with MARIA_DECLARE_STREAMS=false")
	return cmd
}
