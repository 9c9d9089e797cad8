package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Positional-argument checks that fail as usage errors (exit 2).

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	return nil
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("want at most %s, got %d arguments", what, len(args))
		}
		return nil
	}
}

// singleDashCompat keeps the Go-flag spelling that maria accepted before it
// moved to cobra: `-yes`, `-path /healthz`, `-json`. A single-dash argument
// naming a long flag of the command tree becomes `--name`; shorthands (-h)
// and anything after `--` are left alone.
func singleDashCompat(root *cobra.Command, args []string) []string {
	long := map[string]bool{"help": true, "version": true}
	walk(root, func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
	})
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && long[name] {
			out[i] = "-" + a
		}
	}
	return out
}
