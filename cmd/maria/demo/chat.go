package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
)

// ChatOptions configure Chat.
type ChatOptions struct {
	// In is read line by line; Out receives Maria's answers.
	In  io.Reader
	Out Printer
	// Prompt shows a "you ›" prompt (interactive terminals).
	Prompt bool
	// Channel is the DM channel (default ChatChannel); User who talks.
	Channel, User string
}

// ChatHelp describes the prompt's commands.
const ChatHelp = `Type a message and press Enter: it is sent to Maria as a Slack DM, through
ingress, and her answer is printed when egress delivered it. Follow-ups stay
in the same thread (Maria remembers it).
  /new            start a new conversation (a new thread)
  /confirm        click Confirm on Maria's latest proposal (/cancel: Cancel)
  /file PATH      share a file from disk in the conversation (stored by storage)
  /trace          the per-hop trace of the last turn
  /transcript     the whole Slack transcript
  /help           this text
  /quit           stop (Ctrl-D and Ctrl-C too)`

// Chat runs the interactive prompt until In ends (EOF), /quit, or ctx ends.
func (e *Env) Chat(ctx context.Context, o ChatOptions) error {
	if o.Channel == "" {
		o.Channel = ChatChannel
	}
	if o.User == "" {
		o.User = ScriptUser
	}
	p := o.Out
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(o.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()
	var thread string
	var last *Turn
	var lastDone time.Time
	for {
		if o.Prompt {
			p.Printf("%s ", p.paint(styleCyan, "you ›"))
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			p.Printf("\n")
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			if o.Prompt {
				p.Printf("\n")
			}
			if err := <-readErr; err != nil {
				return fmt.Errorf("read input: %w", err)
			}
			return nil
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !o.Prompt {
			p.Printf("%s %s\n", p.paint(styleCyan, "you ›"), line) // piped input: show the conversation
		}
		cmd, arg, _ := strings.Cut(line, " ")
		var t *Turn
		var err error
		done := Answered
		switch cmd {
		case "/quit", "/exit":
			return nil
		case "/help":
			p.Printf("%s\n", ChatHelp)
			continue
		case "/new":
			thread = ""
			p.Printf("(new conversation)\n")
			continue
		case "/transcript":
			p.Printf("%s", e.Slack.Transcript())
			continue
		case "/trace":
			if last == nil {
				p.Printf("(nothing sent yet)\n")
				continue
			}
			rows, err := e.TurnTrace(ctx, last, lastDone)
			if err != nil {
				p.Printf("trace: %v\n", err)
				continue
			}
			p.Trace(last.ID, rows)
			continue
		case "/confirm", "/cancel":
			action := ai.ActionConfirm
			if cmd == "/cancel" {
				action = ai.ActionCancel
			}
			m, b, found := e.FindButton(o.Channel, thread, action)
			if !found {
				p.Printf("(no proposal with a %s button in this conversation)\n", strings.TrimPrefix(cmd, "/"))
				continue
			}
			t, err = e.Click(ctx, o.User, m, b)
			done = AnyDelivered
		case "/file":
			path := strings.TrimSpace(arg)
			data, rerr := os.ReadFile(path)
			if rerr != nil {
				p.Printf("file: %v\n", rerr)
				continue
			}
			mt := mime.TypeByExtension(filepath.Ext(path))
			if mt == "" {
				mt = "application/octet-stream"
			}
			t, _, err = e.ShareFile(ctx, o.Channel, "im", o.User, "", thread, filepath.Base(path), mt, data)
			done = Stored
		default:
			if strings.HasPrefix(cmd, "/") {
				p.Printf("unknown command %s (/help lists them)\n", cmd)
				continue
			}
			t, err = e.DM(ctx, o.Channel, o.User, line, thread)
		}
		if err != nil {
			p.Printf("%s %v\n", p.paint(styleRed, "✗"), err)
			continue
		}
		if thread == "" {
			thread = t.ThreadTS
		}
		seen, err := e.Settle(ctx, t.ID, done)
		last, lastDone = t, time.Now()
		if errors.Is(err, context.Canceled) {
			return nil
		}
		e.printAnswer(p, t, seen)
		if err != nil {
			p.Printf("%s %v\n", p.paint(styleRed, "✗"), err)
		}
	}
}

// printAnswer prints what Maria said for a turn.
func (e *Env) printAnswer(p Printer, t *Turn, seen []Seen) {
	said := false
	for _, m := range e.Replies(t, seen) {
		said = true
		text := strings.TrimSpace(m.Text)
		p.Printf("%s %s\n", p.paint(styleBold, "maria ›"), strings.ReplaceAll(text, "\n", "\n        "))
		for _, b := range Buttons(m) {
			p.Printf("        [%s]  (type /%s)\n", b.Text, strings.ToLower(b.Text))
		}
	}
	for _, m := range e.Ephemerals(t, seen) {
		said = true
		p.Printf("%s %s\n", p.paint(styleBold, "maria (only you) ›"), strings.TrimSpace(m.Text))
	}
	for _, env := range OfType(seen, schemas.TypeStoredFile) {
		if sf, err := schemas.DecodeData[schemas.StoredFile](env); err == nil {
			said = true
			p.Printf("%s stored %s in %s %s/%s (%s, %d bytes)\n", p.paint(styleDim, "storage ›"), sf.Name, sf.Backend, sf.Bucket, sf.Key, sf.ContentType, sf.Size)
		}
	}
	if !said {
		p.Printf("%s (no answer)\n", p.paint(styleDim, "maria ›"))
	}
}
