package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses of maria, the same for every subcommand.
const (
	exitOK    = 0 // done, or help / version printed
	exitFail  = 1 // the command ran and failed (nothing running, a refused write, …)
	exitUsage = 2 // the command line is wrong: unknown command or flag, bad arguments
)

// usageError is a wrong command line: exit 2 and a hint to --help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// newRoot builds the command tree writing to c.
func newRoot(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:   "maria",
		Short: "Maria: Slack in, an AI that reads your ERP, answers out — one binary",
		Long: `maria runs Maria's services (maria run), the whole pipeline offline (maria demo,
maria chat), and the operator commands of a running pipeline (streams, tail,
trace, dlq, replay).

Exit status: 0 done, 1 the command failed, 2 the command line is wrong.`,
		Version:       version,
		Args:          cobra.ArbitraryArgs,
		RunE:          unknownCommand,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("maria {{.Version}}\n")
	root.SuggestionsMinimumDistance = 2
	root.SetIn(c.in)
	root.SetOut(c.out)
	root.SetErr(c.errOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newRunCmd(c), newVersionCmd(c), newDemoCmd(c), newChatCmd(c),
		newStreamsCmd(c), newTailCmd(c), newTraceCmd(c), newDLQCmd(c), newReplayCmd(c),
		newHealthcheckCmd(c), newNewCmd(c), newBackupCmd(c), newRestoreCmd(c), newSmokeCmd(c),
	)
	walk(root, func(cmd *cobra.Command) {
		// Each Use line already lists the command's flags.
		cmd.DisableFlagsInUseLine = true
		cmd.SuggestionsMinimumDistance = 2
	})
	return root
}

// walk calls fn on cmd and every command below it.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, sub := range cmd.Commands() {
		walk(sub, fn)
	}
}

// unknownCommand is what a command with subcommands runs when none matched.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
		return usagef("missing command")
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	return usageError{errors.New(msg)}
}

func newVersionCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  noArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(c.out, "maria", version) },
	}
}

// execute runs the command line args and returns the exit status. Errors
// are one line on stderr, prefixed with the command; a usage error adds how
// to get help.
func execute(args []string, c *cli) int {
	root := newRoot(c)
	root.SetArgs(singleDashCompat(root, args))
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(c.errOut, "%s: %v\n", cmd.CommandPath(), err)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(c.errOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitFail
}
