package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/mariahq/maria/cmd/maria/ops"
)

func init() {
	register("demo", "the whole pipeline offline (Slack, OpenAI, Odoo simulated): a scripted conversation, then a prompt", cmdDemo)
	register("chat", "talk to Maria in the terminal through the whole pipeline (the demo environment, without the script)", cmdChat)
}

func cmdDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	noChat := fs.Bool("no-chat", false, "exit after the scripted conversation (also when stdin is not a terminal)")
	common := demoFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: maria demo [--no-chat] [--verbose] [--no-color]

Starts the embedded JetStream, every service, and simulators for Slack, OpenAI
and Odoo in this process; drives a scripted conversation through the real HTTP
ingress with signed Slack events (an order question, a follow-up, a lead with
its Confirm click, a shared image) and prints the Slack transcript and a
per-hop trace of each turn. Then it keeps running with a prompt (maria chat)
until Ctrl-D / Ctrl-C. Exits 1 when a scripted step did not produce its
expected outcome.

OPENAI_API_KEY or OPENAI_BASE_URL set → the real model answers; ODOO_URL set
→ your Odoo is used (the demo then creates a lead there). MARIA_DATA_DIR keeps
the JetStream data (default: a temporary directory).`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	interactive := ops.IsTerminal(os.Stdin)
	return runDemo(common, demo.RunOptions{Script: true, Chat: !*noChat && interactive, Prompt: interactive})
}

func cmdChat(args []string) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	common := demoFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: maria chat [--verbose] [--no-color]

Starts the demo environment (embedded JetStream, every service, Slack, OpenAI
and Odoo simulators — or the real model / Odoo, as for maria demo) without the
script, and sends each line you type to Maria as a Slack DM through ingress;
her answer is printed when egress delivered it. Lines can be piped too:
  echo "What is the status of S00042?" | maria chat`)
		fmt.Fprintf(fs.Output(), "\n%s\n\n", demo.ChatHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	interactive := ops.IsTerminal(os.Stdin)
	return runDemo(common, demo.RunOptions{Chat: true, Prompt: interactive})
}

type demoCommon struct {
	verbose, noColor *bool
}

func demoFlags(fs *flag.FlagSet) demoCommon {
	return demoCommon{
		verbose: fs.Bool("verbose", false, "services' logs on stderr (default: a log file in the temporary directory)"),
		noColor: fs.Bool("no-color", false, "no ANSI colours"),
	}
}

func runDemo(c demoCommon, o demo.RunOptions) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Environ = ops.Environ()
	o.Out, o.In = os.Stdout, os.Stdin
	o.Color = useColor(*c.noColor)
	if *c.verbose {
		o.LogOutput, o.LogPath = os.Stderr, "stderr"
	} else {
		path := filepath.Join(os.TempDir(), "maria-demo.log")
		f, err := os.Create(path)
		if err != nil {
			o.LogOutput = io.Discard
		} else {
			defer f.Close()
			o.LogOutput, o.LogPath = f, path
		}
	}
	return demo.Run(ctx, o)
}
