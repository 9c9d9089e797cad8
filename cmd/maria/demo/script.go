package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"

	"github.com/mariahq/maria/processors/ai"
	"github.com/mariahq/maria/schemas"
)

// The scripted conversation's cast and place.
const (
	ScriptChannel = "C0SALES"
	ScriptUser    = "U0ALICE"
	// ScriptSeller is the second person, who connects their own Odoo user.
	ScriptSeller = "U0MARC"
	// ChatChannel is the DM channel of `maria chat`.
	ChatChannel = "D0ALICE"
)

// Script questions (exported so tests and docs quote the same words).
const (
	QuestionOrder    = "What is the status of S00042?"
	QuestionFollowUp = "who is the customer and how much is it?"
	QuestionLead     = "create a lead for Acme, 5k, for Mitchell"
	QuestionUnpaid   = "Which invoices are unpaid?"
	ImageName        = "delivery-S00042.png"
)

// StepResult is the outcome of one scripted step.
type StepResult struct {
	Name     string
	Turns    []*Turn
	Failures []string
}

// OK reports whether the step produced its expected outcome.
func (r StepResult) OK() bool { return len(r.Failures) == 0 }

// script runs the steps and checks; failures are collected, not fatal, so
// the user sees everything that did or did not happen.
type script struct {
	e          *Env
	p          Printer
	transcript string
	results    []StepResult
	cur        *StepResult
	thread     string // the conversation's thread, started by step 1
}

func (s *script) check(ok bool, format string, args ...any) bool {
	if ok {
		s.p.OK(format, args...)
		return true
	}
	msg := fmt.Sprintf(format, args...)
	s.p.Fail("%s", msg)
	s.cur.Failures = append(s.cur.Failures, msg)
	return false
}

func (s *script) fail(err error) {
	s.p.Fail("%v", err)
	s.cur.Failures = append(s.cur.Failures, err.Error())
}

// Script runs the scripted conversation through the real ingress, printing
// after each step the Slack transcript (new lines marked "+") and the
// per-hop trace of each turn. It returns every step's result and an error
// naming the steps that did not produce their expected outcome.
func (e *Env) Script(ctx context.Context, p Printer) ([]StepResult, error) {
	s := &script{e: e, p: p}
	e.Slack.AddUser(ScriptUser, "alice", "Alice Martin", "alice@example.com")
	s.step("1. A question about an order → the AI reads the ERP", func() { s.orderQuestion(ctx) })
	s.step("2. A follow-up in the thread → Maria remembers the conversation", func() { s.followUp(ctx) })
	s.step("3. A change request → a proposal; the asker's Confirm click → one ERP write", func() { s.changeRequest(ctx) })
	s.step("4. A shared image → stored", func() { s.sharedImage(ctx) })
	s.step("5. A shared PDF with a question → the AI reads it", func() { s.sharedPDF(ctx) })
	s.step("6. Each person's own Odoo rights: a salesperson is refused invoices; connected as the manager, answered", func() { s.ownOdooUser(ctx) })
	return s.results, s.summary()
}

// summary prints every step's outcome and names the ones that failed.
func (s *script) summary() error {
	var failed []string
	s.p.Heading("Result")
	for _, r := range s.results {
		if r.OK() {
			s.p.OK("%s", r.Name)
		} else {
			s.p.Fail("%s: %s", r.Name, strings.Join(r.Failures, "; "))
			failed = append(failed, r.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d scripted steps failed: %s", len(failed), len(s.results), strings.Join(failed, "; "))
	}
	return nil
}

// orderQuestion: a question about an order makes the AI read the ERP; it starts the thread.
func (s *script) orderQuestion(ctx context.Context) {
	e := s.e
	t, seen, ok := s.ask(ctx, func() (*Turn, error) { return e.Mention(ctx, ScriptChannel, ScriptUser, QuestionOrder, "") }, Answered)
	if !ok {
		return
	}
	s.thread = t.ThreadTS
	answer := s.answerIn(t, seen)
	queries := e.Watch.Queries(t.Started, time.Now())
	read := false
	for _, q := range queries {
		read = read || q.Model == "sale.order"
	}
	s.check(read, "the AI read sale.order from the ERP (%d ERP queries: %s)", len(queries), queryList(queries))
	if !e.RealAI && e.Odoo != nil {
		s.check(strings.Contains(answer, "S00042") && strings.Contains(answer, "Azure Interior"),
			"the answer names the order and its customer from Odoo")
	}
}

// followUp: a follow-up in the thread is answered from memory.
func (s *script) followUp(ctx context.Context) {
	e := s.e
	if s.thread == "" {
		s.fail(errors.New("skipped: step 1 started no thread"))
		return
	}
	before := 0
	if e.OpenAI != nil {
		before = len(e.OpenAI.Requests())
	}
	t, seen, ok := s.ask(ctx, func() (*Turn, error) { return e.Reply(ctx, ScriptChannel, ScriptUser, QuestionFollowUp, s.thread) }, Answered)
	if !ok {
		return
	}
	answer := s.answerIn(t, seen)
	if e.OpenAI != nil {
		sawEarlier := false
		for _, r := range e.OpenAI.Requests()[before:] {
			for _, m := range r.Messages[:max(0, len(r.Messages)-1)] {
				sawEarlier = sawEarlier || strings.Contains(m.Text(), "S00042")
			}
		}
		s.check(sawEarlier, "the model was given the earlier turn (thread memory)")
		queries := e.Watch.Queries(t.Started, time.Now())
		s.check(len(queries) == 0, "answered from memory, without reading the ERP again (%d queries)", len(queries))
		if e.Odoo != nil {
			s.check(strings.Contains(answer, "Azure Interior") && strings.Contains(answer, "total"),
				"the answer names the customer and the total")
		}
	}
}

// changeRequest: a change request gets a proposal; the Confirm click makes one ERP write.
func (s *script) changeRequest(ctx context.Context) {
	e := s.e
	if s.thread == "" {
		s.fail(errors.New("skipped: step 1 started no thread"))
		return
	}
	before := e.countLeads()
	t, _, ok := s.ask(ctx, func() (*Turn, error) { return e.Reply(ctx, ScriptChannel, ScriptUser, QuestionLead, s.thread) }, Answered)
	if !ok {
		return
	}
	msg, confirm, found := e.FindButton(ScriptChannel, t.ThreadTS, ai.ActionConfirm)
	if !s.check(found, "Maria proposed the change with Confirm / Cancel buttons") {
		return
	}
	// What the asker sees before clicking: every value the write will set.
	s.p.Said("  proposal ›", s.p.Mrkdwn().Message(msg.Text, msg.Blocks))
	if e.Odoo != nil {
		s.check(e.countLeads() == before, "nothing written before the click (crm.lead: %d)", e.countLeads())
	}
	c, _, ok := s.ask(ctx, func() (*Turn, error) { return e.Click(ctx, ScriptUser, msg, confirm) }, ERPDone)
	if !ok {
		return
	}
	seen := e.Watch.Turn(c.ID)
	cmds := OfType(seen, schemas.TypeERPCommand)
	results := OfType(seen, schemas.TypeERPResult)
	s.check(len(cmds) == 1 && len(results) == 1, "one ERP command, one result (%d, %d)", len(cmds), len(results))
	for _, r := range results {
		if res, err := schemas.DecodeData[schemas.ERPResult](r); err == nil {
			s.check(res.OK, "Odoo %s on %s: ok=%v ids=%v %s %s", res.Op, res.Model, res.OK, res.IDs, res.URL, res.Error)
		}
	}
	if e.Odoo != nil {
		after := e.countLeads()
		s.check(after == before+1, "exactly one crm.lead created in the Odoo simulator (%d → %d)", before, after)
	} else {
		s.p.Printf("  (real Odoo: the lead was written there; the exactly-once count is checked only on the simulator)\n")
	}
	updated, _ := e.Slack.Message(msg.Channel, msg.TS)
	s.check(updated.Edits > 0 && len(Buttons(updated)) == 0, "the proposal message now shows the outcome, without buttons")
}

// sharedImage: a shared image is stored, byte for byte.
func (s *script) sharedImage(ctx context.Context) {
	e := s.e
	img := DemoImage()
	sum := sha256.Sum256(img)
	_, seen, ok := s.do(ctx, func() (*Turn, error) {
		t, _, err := e.ShareFile(ctx, ScriptChannel, "channel", ScriptUser, "", s.thread, ImageName, "image/png", img)
		return t, err
	}, Stored)
	if !ok {
		return
	}
	for _, env := range OfType(seen, schemas.TypeStoredFile) {
		sf, err := schemas.DecodeData[schemas.StoredFile](env)
		if err != nil {
			s.fail(err)
			continue
		}
		s.check(sf.SHA256 == hex.EncodeToString(sum[:]) && sf.Size == int64(len(img)),
			"stored %s in %s/%s (%s, %d bytes, sha256 %s…)", sf.Name, sf.Backend, sf.Bucket+"/"+sf.Key, sf.ContentType, sf.Size, sf.SHA256[:12])
	}
}

func (s *script) step(name string, run func()) {
	s.results = append(s.results, StepResult{Name: name})
	s.cur = &s.results[len(s.results)-1]
	s.p.Heading(name)
	run()
}

// ask sends a message, waits for the pipeline to settle, then prints the
// transcript and the trace.
func (s *script) ask(ctx context.Context, send func() (*Turn, error), done func([]Seen) bool) (*Turn, []Seen, bool) {
	return s.do(ctx, send, done)
}

func (s *script) do(ctx context.Context, send func() (*Turn, error), done func([]Seen) bool) (*Turn, []Seen, bool) {
	t, err := send()
	if t != nil && t.Text != "" {
		s.p.Printf("  %s › %s\n", t.User, strings.TrimSpace(strings.TrimPrefix(t.Text, "<@"+BotUserID+">")))
	}
	if err != nil {
		s.fail(err)
		return t, nil, false
	}
	s.cur.Turns = append(s.cur.Turns, t)
	seen, err := s.e.Settle(ctx, t.ID, done)
	settled := time.Now()
	s.p.Printf("\n")
	s.transcript = s.p.Transcript(s.e.Slack.Transcript(), s.transcript)
	s.p.Printf("\n")
	if rows, terr := s.e.TurnTrace(ctx, t, settled); terr != nil {
		s.p.Printf("  trace %s: %v\n", t.ID, terr)
	} else {
		s.p.Trace(t.ID, rows)
	}
	s.p.Printf("\n")
	if err != nil {
		s.fail(fmt.Errorf("turn %s: %w", t.ID, err))
		return t, seen, false
	}
	return t, seen, true
}

// answerIn checks that Maria answered in the turn's thread and returns the text.
func (s *script) answerIn(t *Turn, seen []Seen) string {
	replies := s.e.Replies(t, seen)
	inThread := len(replies) > 0
	var text []string
	for _, m := range replies {
		inThread = inThread && m.ThreadTS == t.ThreadTS
		text = append(text, m.Text)
	}
	s.check(inThread, "Maria answered in the thread (%d message(s))", len(replies))
	return strings.Join(text, "\n")
}

func (e *Env) countLeads() int {
	if e.Odoo == nil {
		return -1
	}
	return e.Odoo.Count("crm.lead")
}

func queryList(qs []schemas.ERPQuery) string {
	if len(qs) == 0 {
		return "none"
	}
	parts := make([]string, len(qs))
	for i, q := range qs {
		parts[i] = q.Model + "." + q.Method
	}
	return strings.Join(parts, ", ")
}

// DemoImage is a small PNG (a delivery label) for the file step.
func DemoImage() []byte {
	const w, h = 96, 64
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{R: uint8(40 + x), G: uint8(90 + y), B: 200, A: 255}
			if (x/8+y/8)%2 == 0 && y > 20 && y < 44 {
				c = color.RGBA{R: 250, G: 250, B: 250, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(fmt.Sprintf("demo: encode png: %v", err)) // in-memory encoding of a valid image cannot fail
	}
	return buf.Bytes()
}
