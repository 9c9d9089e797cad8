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
	lines, readErr := readLines(ctx, o.In)
	s := &chatSession{e: e, o: o, p: p}
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
		if s.handle(ctx, line) {
			return nil
		}
	}
}

// readLines feeds in's lines to a channel, closed at EOF; the read error,
// if any, follows on the second channel.
func readLines(ctx context.Context, in io.Reader) (<-chan string, <-chan error) {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
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
	return lines, readErr
}

// chatSession is one Chat's conversation: its thread and its last turn.
type chatSession struct {
	e        *Env
	o        ChatOptions
	p        Printer
	thread   string
	last     *Turn
	lastDone time.Time
}

// handle runs one line: a prompt command or a message to Maria. It reports
// whether the chat should end.
func (s *chatSession) handle(ctx context.Context, line string) (quit bool) {
	p := s.p
	cmd, arg, _ := strings.Cut(line, " ")
	switch cmd {
	case "/quit", "/exit":
		return true
	case "/help":
		p.Printf("%s\n", ChatHelp)
	case "/new":
		s.thread = ""
		p.Printf("(new conversation)\n")
	case "/transcript":
		p.Printf("%s\n", p.Mrkdwn().Render(strings.TrimRight(s.e.Slack.Transcript(), "\n")))
	case "/trace":
		s.trace(ctx)
	default:
		t, done, err := s.send(ctx, cmd, arg, line)
		if t == nil && err == nil {
			return false // nothing sent; said why
		}
		return s.answer(ctx, t, done, err)
	}
	return false
}

// trace prints the per-hop trace of the last turn.
func (s *chatSession) trace(ctx context.Context) {
	if s.last == nil {
		s.p.Printf("(nothing sent yet)\n")
		return
	}
	rows, err := s.e.TurnTrace(ctx, s.last, s.lastDone)
	if err != nil {
		s.p.Printf("trace: %v\n", err)
		return
	}
	s.p.Trace(s.last.ID, rows)
}

// send starts the turn a line asks for: a button click, a shared file or a
// DM, with the condition that ends it. No turn and no error: nothing was
// sent, and why was printed.
func (s *chatSession) send(ctx context.Context, cmd, arg, line string) (*Turn, func([]Seen) bool, error) {
	p, e, o := s.p, s.e, s.o
	switch {
	case cmd == "/confirm" || cmd == "/cancel":
		action := ai.ActionConfirm
		if cmd == "/cancel" {
			action = ai.ActionCancel
		}
		m, b, found := e.FindButton(o.Channel, s.thread, action)
		if !found {
			p.Printf("(no proposal with a %s button in this conversation)\n", strings.TrimPrefix(cmd, "/"))
			return nil, nil, nil
		}
		t, err := e.Click(ctx, o.User, m, b)
		return t, AnyDelivered, err
	case cmd == "/file":
		path := strings.TrimSpace(arg)
		data, err := os.ReadFile(path)
		if err != nil {
			p.Printf("file: %v\n", err)
			return nil, nil, nil
		}
		mt := mime.TypeByExtension(filepath.Ext(path))
		if mt == "" {
			mt = "application/octet-stream"
		}
		t, _, err := e.ShareFile(ctx, o.Channel, "im", o.User, "", s.thread, filepath.Base(path), mt, data)
		return t, Stored, err
	case strings.HasPrefix(cmd, "/"):
		p.Printf("unknown command %s (/help lists them)\n", cmd)
		return nil, nil, nil
	}
	t, err := e.DM(ctx, o.Channel, o.User, line, s.thread)
	return t, Answered, err
}

// answer waits for a sent turn to settle and prints Maria's answer; it
// reports whether the chat should end (interrupted).
func (s *chatSession) answer(ctx context.Context, t *Turn, done func([]Seen) bool, err error) (quit bool) {
	p := s.p
	if err != nil {
		p.Printf("%s %v\n", p.paint(styleRed, "✗"), err)
		return false
	}
	if s.thread == "" {
		s.thread = t.ThreadTS
	}
	seen, err := s.e.Settle(ctx, t.ID, done)
	s.last, s.lastDone = t, time.Now()
	if errors.Is(err, context.Canceled) {
		return true
	}
	s.e.printAnswer(p, t, seen)
	if err != nil {
		p.Printf("%s %v\n", p.paint(styleRed, "✗"), err)
	}
	return false
}

// printAnswer prints what Maria said for a turn, as Slack shows it (mrkdwn
// rendered, blocks included: a proposal shows every value it will write).
func (e *Env) printAnswer(p Printer, t *Turn, seen []Seen) {
	said := false
	md := p.Mrkdwn()
	for _, m := range e.Replies(t, seen) {
		said = true
		p.Said(p.paint(styleBold, "maria ›"), md.Message(m.Text, m.Blocks))
	}
	for _, m := range e.Ephemerals(t, seen) {
		said = true
		p.Said(p.paint(styleBold, "maria (only you) ›"), md.Message(m.Text, m.Blocks))
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
