package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// RunOptions configure Run (`maria demo`, `maria chat`).
type RunOptions struct {
	// Environ is the process environment as a map.
	Environ map[string]string
	// Out receives the demo's output; Color enables ANSI styles.
	Out   io.Writer
	Color bool
	// In feeds the chat prompt.
	In io.Reader
	// Script runs the scripted conversation first.
	Script bool
	// Chat runs the prompt (after the script); Prompt shows "you ›"
	// (an interactive terminal).
	Chat, Prompt bool
	// LogOutput receives the services' logs; LogPath names it in the banner.
	LogOutput io.Writer
	LogPath   string
	// SecondWorkspace runs Maria as an app workspaces install through
	// OAuth: the demo's workspace installs her first, and after the script
	// a second workspace installs her and asks a question (workspaces.go).
	SecondWorkspace bool
}

// Run starts the environment (DataDir from MARIA_DATA_DIR, else a
// temporary one; NATS on MARIA_NATS_LISTEN or 127.0.0.1:4222 when free;
// ingress on MARIA_HTTP_ADDR or 127.0.0.1:3000 when free), runs the script
// and/or the chat prompt, and stops everything. It returns an error when
// a scripted step failed, after the prompt ends.
func Run(ctx context.Context, o RunOptions) error {
	p := Printer{W: o.Out, Color: o.Color}
	env := o.Environ
	listen := env["MARIA_NATS_LISTEN"]
	if listen == "" {
		listen = "127.0.0.1:4222"
	}
	httpAddr := env["MARIA_HTTP_ADDR"]
	if httpAddr == "" {
		httpAddr = "127.0.0.1:3000"
	}
	e, err := Start(ctx, Options{
		DataDir:        env["MARIA_DATA_DIR"],
		Environ:        env,
		NATSListen:     FreeListen(listen),
		HTTPAddr:       FreeListen(httpAddr),
		LogOutput:      o.LogOutput,
		MultiWorkspace: o.SecondWorkspace,
	})
	if err != nil {
		return err
	}
	defer e.Close()
	e.Banner(p, o.LogPath)
	if o.SecondWorkspace {
		if err := e.installOwn(ctx, p); err != nil {
			return err
		}
	}

	var scriptErr error
	if o.Script {
		_, scriptErr = e.Script(ctx, p)
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
	}
	if o.SecondWorkspace && ctx.Err() == nil {
		if err := e.showSecondWorkspace(ctx, p); err != nil && scriptErr == nil {
			scriptErr = err
		}
	}
	if o.Chat && ctx.Err() == nil {
		p.Heading("Talk to Maria")
		p.Printf("Maria keeps running. Each line you type is a Slack DM to her, through the same pipeline.\n")
		p.Printf("/help lists the commands; Ctrl-D or Ctrl-C stops everything.\n")
		p.Printf("Meanwhile, in another terminal: NATS_URL=%s NATS_CREDS=%s maria tail 'maria.>'  (or maria streams, maria trace <id>)\n\n", e.NATSURL(), e.NATSCreds())
		if err := e.Chat(ctx, ChatOptions{In: o.In, Out: p, Prompt: o.Prompt}); err != nil && scriptErr == nil {
			return err
		}
	}
	if scriptErr != nil {
		return scriptErr
	}
	if o.Script {
		p.Printf("\nThe scripted conversation succeeded.\n")
	}
	return nil
}

// Banner says what runs where (never a secret).
func (e *Env) Banner(p Printer, logPath string) {
	p.Heading("Maria demo: every service, on an embedded JetStream, in this process")
	row := func(k, v string) { p.Printf("  %-9s %s\n", k, v) }
	row("JetStream", fmt.Sprintf("embedded, data in %s, %s", e.DataDir, e.NATSURL()))
	row("Slack", "simulator; signed events → ingress http://"+e.HTTPAddr+"/slack/events")
	if e.RealAI {
		model := e.Vars["OPENAI_MODEL"]
		if model == "" {
			model = "gpt-4o-mini"
		}
		where := "OpenAI"
		if b := e.Vars["OPENAI_BASE_URL"]; b != "" {
			where = hostOf(b)
		}
		row("OpenAI", fmt.Sprintf("REAL model %s at %s (OPENAI_* from your environment)", model, where))
	} else {
		row("OpenAI", "simulator with offline rules (set OPENAI_API_KEY or OPENAI_BASE_URL for a real model)")
	}
	if e.RealOdoo {
		row("Odoo", fmt.Sprintf("REAL Odoo at %s, database %q (ODOO_* from your environment) — the demo creates a lead there", hostOf(e.Vars["ODOO_URL"]), e.Vars["ODOO_DB"]))
	} else {
		row("Odoo", "simulator with demo data (set ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD for yours)")
	}
	backend := e.Vars["MARIA_STORAGE"]
	if backend == "" {
		backend = "nats"
	}
	row("Storage", backend)
	row("services", strings.Join(e.Running(), ", "))
	if logPath != "" {
		row("logs", logPath)
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
}
