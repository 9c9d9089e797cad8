package main

import (
	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

const demoLong = `Starts the embedded JetStream, every service, and simulators for Slack, OpenAI
and Odoo in this process; drives a scripted conversation through the real HTTP
ingress with signed Slack events (an order question, a follow-up, a lead with
its Confirm click, a shared image) and prints the Slack transcript and a
per-hop trace of each turn. Then it keeps running with a prompt (maria chat)
until Ctrl-D / Ctrl-C. Exits 1 when a scripted step did not produce its
expected outcome.

OPENAI_API_KEY or OPENAI_BASE_URL set → the real model answers; ODOO_URL set
→ your Odoo is used (the demo then creates a lead there). MARIA_DATA_DIR keeps
the JetStream data (default: a temporary directory).`

const chatLong = `Starts the demo environment (embedded JetStream, every service, Slack, OpenAI
and Odoo simulators — or the real model / Odoo, as for maria demo) without the
script, and sends each line you type to Maria as a Slack DM through ingress;
her answer is printed when egress delivered it. Lines can be piped too:
  echo "What is the status of S00042?" | maria chat

` + demo.ChatHelp

// demoFlags are the flags demo and chat share.
type demoFlags struct{ verbose, noColor bool }

func (f *demoFlags) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.verbose, "verbose", false, "services' logs on stderr (default: a log file of this run in the temporary directory)")
	cmd.Flags().BoolVar(&f.noColor, "no-color", false, "no ANSI colours")
}

func newDemoCmd(c *cli) *cobra.Command {
	var f demoFlags
	var noChat, second bool
	cmd := &cobra.Command{
		Use:   "demo [--no-chat] [--second-workspace] [--verbose] [--no-color]",
		Short: "the whole pipeline offline (Slack, OpenAI, Odoo simulated): a scripted conversation, then a prompt",
		Long:  demoLong,
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return c.runDemo(f, demo.RunOptions{Script: true, Chat: !noChat && c.inTTY, Prompt: c.inTTY, SecondWorkspace: second})
		},
	}
	cmd.Flags().BoolVar(&noChat, "no-chat", false, "exit after the scripted conversation (also when stdin is not a terminal)")
	cmd.Flags().BoolVar(&second, "second-workspace", false, "Maria as an app installed through Slack's OAuth flow: the demo's workspace installs her, and after the script a second workspace installs her and asks a question")
	f.bind(cmd)
	return cmd
}

func newChatCmd(c *cli) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "chat [--verbose] [--no-color]",
		Short: "talk to Maria in the terminal through the whole pipeline (the demo environment, without the script)",
		Long:  chatLong,
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return c.runDemo(f, demo.RunOptions{Chat: true, Prompt: c.inTTY})
		},
	}
	f.bind(cmd)
	return cmd
}

func (c *cli) runDemo(f demoFlags, o demo.RunOptions) error {
	ctx, stop := signalContext()
	defer stop()
	o.Environ = ops.Environ()
	o.Out, o.In = c.out, c.in
	o.Color = c.useColor(f.noColor)
	var closeLog func()
	o.LogOutput, o.LogPath, closeLog = demo.LogTo(f.verbose, c.errOut)
	defer closeLog()
	return demo.Run(ctx, o)
}
