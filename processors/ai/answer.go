package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// turn is one question to answer.
type turn struct {
	text, user, team, channel string
	// threadTS is where the answer goes; empty for slash commands (a new
	// channel message, no memory).
	threadTS string
	// prefix precedes a posted (non-streamed) answer.
	prefix string
	// ts is the user's Slack message (remembered so edits can revise it).
	ts string
	// channelType is the event's channel_type (im, channel, …) when known:
	// direct messages may have ERP access where channels do not.
	channelType string
	// files were shared with the question; attached is what they add to
	// it once read (files.go).
	files    []schemas.SlackFile
	attached *turnFiles
}

// answer runs a turn at most once to completion: a turn record (KV,
// keyed by the event id, not the delivery) makes a redelivered, already
// answered event republish only the answer's end (dropped as duplicates),
// and every command of the turn has the same id on every delivery (see
// turn.go for the whole protocol).
func (p *Processor) answer(ctx context.Context, m *bus.Msg, q turn) error {
	key := "turn-" + m.Env.ID
	if rec := p.unrecorded.take(key); rec != nil {
		// Answered here already; only its record failed: record it now.
		return p.commit(ctx, m, key, rec)
	}
	prev, done, err := p.turns.Begin(ctx, key)
	switch {
	case errors.Is(err, kv.ErrInFlight):
		return bus.RetryAfter(err, p.inFlightWait(prev))
	case err != nil:
		return bus.Retry(err)
	case done:
		metricEvents.WithLabelValues(eventLabel(m.Env.Type), "duplicate").Inc()
		rec, err := recordOf(prev)
		if err != nil {
			return bus.Permanent(err)
		}
		return p.publishFinal(ctx, m, rec)
	case prev != nil:
		m.Log.Warn().Msg("ai: took over an abandoned turn; answering again under the same command ids")
	}
	rec, err := p.runTurn(ctx, m, q)
	if err != nil {
		if rerr := p.turns.Release(context.WithoutCancel(ctx), key); rerr != nil {
			m.Log.Warn().Err(rerr).Msg("ai: release turn claim")
		}
		if bus.IsPermanent(err) {
			return err
		}
		return bus.Retry(err)
	}
	return p.commit(ctx, m, key, rec)
}

// inFlightWait is how long a delivery that found its turn claimed waits
// before asking again: until the claim turns stale (its holder died — a
// live one keeps its delivery, so no redelivery would have come), just
// past it, so a killed replica's question resumes in seconds; bounded when
// the holder's record is unknown.
func (p *Processor) inFlightWait(holder *kv.Record) time.Duration {
	if holder == nil {
		return min(p.turnStale, 5*time.Second)
	}
	return min(max(p.turnStale-time.Since(holder.Claimed)+100*time.Millisecond, 100*time.Millisecond), 15*time.Second)
}

func eventLabel(typ string) string {
	switch typ {
	case schemas.TypeSlackMention:
		return "mention"
	case schemas.TypeSlackMessage:
		return "message"
	case schemas.TypeSlackCommand:
		return "command"
	}
	return "other"
}

// turnResult is what a successful conversation produced.
type turnResult struct {
	notes []string
	// compact asks to save memory trimmed harder (after a context-length error).
	compact bool
	// tokens is what the turn's model calls cost so far.
	tokens int
}

// runTurn answers: the streamed part of the answer is published as it
// comes; the commands that end it are returned in the record, for commit
// to publish once the turn is recorded.
func (p *Processor) runTurn(ctx context.Context, m *bus.Msg, q turn) (*turnRecord, error) {
	out := schemas.OutSubject(q.team, q.channel)
	rec := &turnRecord{Answered: p.now().UTC(), Subject: out}
	if over, err := p.budgets.Exceeded(ctx, q.team, q.user); err != nil {
		return nil, err
	} else if over != "" {
		metricBudgetRefusals.WithLabelValues(over).Inc()
		metricEvents.WithLabelValues(eventLabel(m.Env.Type), "over_budget").Inc()
		var c finalCommand
		if q.threadTS == "" {
			c, err = newFinal("budget", schemas.TypeOutEphemeral, schemas.OutEphemeral{User: q.user, Text: budgetText(over)})
		} else {
			c, err = newFinal("budget", schemas.TypeOutPost, schemas.OutPost{Text: budgetText(over), ThreadTS: q.threadTS})
		}
		rec.Final = []finalCommand{c}
		return rec, err
	}
	status := &statusLine{ctx: ctx, delay: p.cfg.StatusDelay, log: m.Log,
		publish: func(ctx context.Context, key, status string) error {
			if q.threadTS == "" {
				return nil // slash commands have no thread to show a status in
			}
			_, err := m.Publish(ctx, out, key, schemas.TypeOutStatus, schemas.OutStatus{ThreadTS: q.threadTS, Status: status})
			return err
		}}
	defer status.stop()
	if err := status.set("status-thinking", "is thinking…"); err != nil {
		return nil, err
	}

	if len(q.files) > 0 {
		if err := status.set("status-files", "is reading the file…"); err != nil {
			return nil, err
		}
		var err error
		if q.attached, err = p.readFiles(ctx, m, q); err != nil {
			return nil, err
		}
	}
	memKey := ""
	mem := &Thread{}
	if q.threadTS != "" {
		memKey = ThreadKey(q.team, q.channel, q.threadTS)
		var err error
		if mem, _, err = p.mem.Load(ctx, memKey); err != nil {
			return nil, err
		}
	}
	policy, err := p.policyFor(ctx, q.team)
	if err != nil {
		return nil, err
	}
	access := policy.Access(m.Env.UserKind, q.channel, q.channelType)
	if !access.read {
		metricERPRefusals.WithLabelValues("read", access.readReason).Inc()
		m.Log.Info().Str("reason", access.readReason).Str("user_kind", m.Env.UserKind).Msg("ai: no ERP access for this turn")
	}
	// The ref and every key derive from the event alone (the empty string
	// once was the delivery scope: kept so ids stay what they were).
	st := &streamer{san: newSanitizer(p.links, q.user), m: m, subject: out, ref: "ai-" + schemas.StableID(m.Env.ID, "")[:20],
		threadTS: q.threadTS, user: q.user, team: q.team, prefix: q.prefix,
		flushChars: p.cfg.StreamFlushChars, flushEvery: p.cfg.StreamFlushInterval, now: p.now,
		onStart: status.cancel, redelivered: m.Delivery > 1}
	pt := p.patienceFor(m, status.setNow)
	tools := newToolRunner(p.erp, p.proposer(m, q), q.user)
	tools.team = q.team
	tools.access, tools.hosts, tools.patience = access, p.links, pt

	res := &turnResult{}
	defer p.chargeBudgets(ctx, m, q, res)
	err = p.converse(ctx, m, q, mem, st, tools, access, status.set, res)
	var le *LLMError
	if err != nil && !errors.As(err, &le) {
		return nil, err // the bus or KV failed: retry the whole turn later
	}
	if le != nil {
		if le.Kind == FailCanceled {
			return nil, le // shutting down: another replica takes it
		}
		metricFailures.WithLabelValues(string(le.Kind)).Inc()
		metricEvents.WithLabelValues(eventLabel(m.Env.Type), "ai_unavailable").Inc()
		m.Log.Warn().Err(le).Str("kind", string(le.Kind)).Msg("ai: answering with an apology")
		sep := ""
		if st.Text() != "" {
			sep = "\n\n"
		}
		if err := st.Write(ctx, sep+apologyText(le)); err != nil {
			return nil, err
		}
		return p.ending(rec, st, q, status, m.Delivery > 1, nil)
	}

	if strings.TrimSpace(st.Text()) == "" {
		if err := st.Write(ctx, "I couldn't put together an answer to that. Could you rephrase the question?"); err != nil {
			return nil, err
		}
	}
	if err := st.Write(ctx, refusalNotice(access, tools.Refusals())+fileNotices(q.attached)); err != nil {
		return nil, err
	}
	blocks := linkBlocks(tools.Links())
	if tools.NotConnected() {
		blocks = append(blocks, connectButton()...)
	}
	rec, err = p.ending(rec, st, q, status, m.Delivery > 1, blocks)
	if err != nil || memKey == "" {
		return rec, err
	}
	// Memory is saved before the commit: entries are keyed by the event,
	// so a turn answered again adds nothing twice.
	now := p.now().UTC()
	entries := []Entry{{ID: m.Env.ID + "/q", Role: RoleUser, User: q.user, Text: q.text, At: now, TS: q.ts}}
	for i, n := range res.notes {
		entries = append(entries, Entry{ID: fmt.Sprintf("%s/n%d", m.Env.ID, i), Role: RoleNote, Text: n, At: now})
	}
	entries = append(entries, Entry{ID: m.Env.ID + "/a", Role: RoleAssistant, Text: st.Text(), At: now})
	budget := 0
	if res.compact {
		budget = p.cfg.MemoryTokens / 2
	}
	if err := p.mem.AppendLoaded(ctx, memKey, mem, budget, entries...); err != nil {
		// Losing this turn's memory is better than answering twice.
		m.Log.Warn().Err(err).Msg("ai: save thread memory")
	}
	return rec, nil
}

// ending puts the answer's final commands in rec: the end of the text (with
// blocks), then the thread status cleared — if one was shown (by this
// attempt, or perhaps by an earlier one: redelivered).
func (p *Processor) ending(rec *turnRecord, st *streamer, q turn, status *statusLine, redelivered bool, blocks []any) (*turnRecord, error) {
	shown := status.stop()
	final, err := st.Final(blocks)
	if err != nil {
		return nil, err
	}
	rec.Final = final
	if q.threadTS != "" && (shown || redelivered) {
		c, err := newFinal("status-clear", schemas.TypeOutStatus, schemas.OutStatus{ThreadTS: q.threadTS})
		if err != nil {
			return nil, err
		}
		rec.Final = append(rec.Final, c)
	}
	return rec, nil
}

// converse runs the model ↔ tools loop, streaming text as it comes.
func (p *Processor) converse(ctx context.Context, m *bus.Msg, q turn, mem *Thread, st *streamer, tools *toolRunner,
	access erpAccess, setStatus func(key, status string) error, res *turnResult) error {
	msgs := withFiles(buildMessages(p.now(), q.user, mem, q.text, accessNote(access)), q.attached)
	defs := toolsFor(access)
	contextRetried := false
	for round := 0; ; round++ {
		req := openai.ChatCompletionRequest{
			Model:               p.cfg.Model,
			Messages:            msgs,
			Tools:               defs,
			MaxCompletionTokens: p.cfg.MaxAnswerTokens,
		}
		if len(defs) > 0 {
			req.ParallelToolCalls = true // OpenAI refuses it without tools
		}
		last := round >= p.cfg.MaxToolRounds
		if last && len(defs) > 0 {
			req.ToolChoice = "none" // enough tool rounds: answer with what you have
		}
		comp, err := p.complete(ctx, req, st, tools.patience)
		if err != nil {
			var le *LLMError
			if errors.As(err, &le) && le.Kind == FailContextLength && !contextRetried {
				contextRetried = true
				res.compact = true
				trimmed := *mem
				trimmed.Entries = append([]Entry(nil), mem.Entries...)
				trimmed.Trim(max(p.cfg.MemoryTokens/4, 50))
				m.Log.Info().Msg("ai: context too long; retrying with trimmed memory")
				msgs = withFiles(buildMessages(p.now(), q.user, &trimmed, q.text, accessNote(access)), q.attached)
				round = -1
				continue
			}
			if le == nil {
				return err // the bus failed: retry the turn
			}
			return le
		}
		p.countUsage(res, msgs, comp)
		if len(comp.ToolCalls) == 0 || last {
			return nil
		}
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: comp.Content, ToolCalls: comp.ToolCalls})
		if err := setStatus(fmt.Sprintf("status-tools-%d", round), toolStatus(comp.ToolCalls)); err != nil {
			return err
		}
		outcomes, err := runTools(ctx, tools, comp.ToolCalls)
		if err != nil {
			return err
		}
		for i, call := range comp.ToolCalls {
			msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleTool, ToolCallID: call.ID,
				Name: call.Function.Name, Content: outcomes[i].Content})
			res.notes = append(res.notes, outcomes[i].Note)
		}
		if err := setStatus(fmt.Sprintf("status-thinking-%d", round), "is thinking…"); err != nil {
			return err
		}
	}
}

// runTools executes parallel tool calls concurrently; results keep the
// calls' order.
func runTools(ctx context.Context, r *toolRunner, calls []openai.ToolCall) ([]toolOutcome, error) {
	outs := make([]toolOutcome, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = r.Run(ctx, c)
		}()
	}
	wg.Wait()
	return outs, errors.Join(errs...)
}

// toolStatus is the thread status while tools run: "is looking up sale.order…".
func toolStatus(calls []openai.ToolCall) string {
	seen := map[string]bool{}
	var models []string
	writes := false
	for _, c := range calls {
		if c.Function.Name == ToolCreate || c.Function.Name == ToolWrite {
			writes = true
		}
		var a struct {
			Model string `json:"model"`
		}
		if json.Unmarshal([]byte(c.Function.Arguments), &a) == nil && modelName.MatchString(a.Model) && !seen[a.Model] {
			seen[a.Model] = true
			models = append(models, a.Model)
		}
	}
	what := strings.Join(models, ", ")
	if what == "" {
		what = "the ERP"
	}
	if writes {
		return "is preparing a change to " + what + "…"
	}
	return "is looking up " + what + "…"
}

// countUsage records tokens in metrics and adds them to the turn's charge
// (see chargeBudgets). Servers that do not report usage are charged an
// estimate.
func (p *Processor) countUsage(res *turnResult, msgs []openai.ChatCompletionMessage, c *Completion) {
	prompt, completion := c.Usage.PromptTokens, c.Usage.CompletionTokens
	if prompt == 0 && completion == 0 {
		for _, msg := range msgs {
			prompt += EstimateTokens(msg.Content) + 4
		}
		completion = EstimateTokens(c.Content)
		for _, tc := range c.ToolCalls {
			completion += EstimateTokens(tc.Function.Arguments) + 4
		}
	}
	metricTokens.WithLabelValues(p.cfg.Model, "prompt").Add(float64(prompt))
	metricTokens.WithLabelValues(p.cfg.Model, "completion").Add(float64(completion))
	res.tokens += prompt + completion
}

// chargeBudgets counts a turn's tokens against the budgets once, at its
// end whatever the outcome: one write per budget per turn, not per model
// round (budgets are checked only when a turn starts, so nothing reads
// them in between).
func (p *Processor) chargeBudgets(ctx context.Context, m *bus.Msg, q turn, res *turnResult) {
	if err := p.budgets.Add(context.WithoutCancel(ctx), q.team, q.user, res.tokens); err != nil {
		m.Log.Warn().Err(err).Msg("ai: count tokens against budgets")
	}
}

// proposer stores a create/write as a proposal and posts it with buttons;
// values too long to show in full go first as an attached file.
func (p *Processor) proposer(m *bus.Msg, q turn) ProposeFunc {
	return func(ctx context.Context, callID string, cmd schemas.ERPCommand, names ProposalNames) (string, error) {
		id := schemas.StableID(m.Env.ID, "", "proposal", callID)
		cmd.ProposalID = id
		digest, err := schemas.ERPCommandDigest(cmd, q.user, q.team, q.channel)
		if err != nil {
			return "", err
		}
		prop, err := p.proposals.Create(ctx, &Proposal{Proposal: schemas.Proposal{ID: id, Status: ProposalPending, Command: cmd, User: q.user,
			Team: q.team, Channel: q.channel, ThreadTS: q.threadTS, Digest: digest, RecordNames: names.Records, ValueNames: names.Values,
			Ref: "proposal-" + id[:20], Created: p.now().UTC(), CorrelationID: m.Env.CorrelationID}})
		if err != nil {
			return "", err
		}
		out := schemas.OutSubject(q.team, q.channel)
		if up := ProposalAttachment(prop); up != nil {
			if _, err := m.Publish(ctx, out, "proposal-file-"+callID, schemas.TypeOutUpload, up); err != nil {
				return "", err
			}
		}
		post := schemas.OutPost{Text: ProposalText(prop), Blocks: ProposalBlocks(prop), ThreadTS: q.threadTS, Ref: prop.Ref}
		if _, err := m.Publish(ctx, out, "proposal-"+callID, schemas.TypeOutPost, post); err != nil {
			return "", err
		}
		metricEvents.WithLabelValues(eventLabel(m.Env.Type), "proposal_posted").Inc()
		return id, nil
	}
}

// linkBlocks lists the Odoo records an answer is about, with links.
func linkBlocks(links []RecordLink) []any {
	if len(links) == 0 {
		return nil
	}
	const maxLinks = 10
	var parts []string
	for i, l := range links {
		if i == maxLinks {
			parts = append(parts, fmt.Sprintf("and %d more", len(links)-maxLinks))
			break
		}
		parts = append(parts, fmt.Sprintf("<%s|%s>", l.URL, slackEscape(l.Label)))
	}
	return []any{contextBlock("Odoo: " + strings.Join(parts, " · "))}
}

// slackEscape escapes the characters Slack's mrkdwn treats as control.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "¦").Replace(s)
}
