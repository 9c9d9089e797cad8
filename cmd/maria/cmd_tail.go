package main

import (
	"context"
	"fmt"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

func newTailCmd(c *cli) *cobra.Command {
	var o ops.TailOptions
	var noColor bool
	cmd := &cobra.Command{
		Use:   "tail [SUBJECT] [--headers] [--raw] [--no-color]",
		Short: "live decoded view of messages (SUBJECT defaults to maria.>, wildcards * and > allowed)",
		Args:  maxArgs(1, "one subject"),
		RunE: func(_ *cobra.Command, args []string) error {
			subject := "maria.>"
			if len(args) == 1 {
				subject = args[0]
			}
			o.Color, o.Width = c.useColor(noColor), termWidth()-40
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				fmt.Fprintf(c.errOut, "tailing %s on %s (Ctrl-C to stop)\n", subject, ops.Where(b))
				return ops.Tail(ctx, b.Conn(), subject, c.out, o)
			})
		},
	}
	cmd.Flags().BoolVar(&o.Headers, "headers", false, "print every header")
	cmd.Flags().BoolVar(&o.Raw, "raw", false, "print the raw body")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no ANSI colours (default: colours when stdout is a terminal)")
	return cmd
}
