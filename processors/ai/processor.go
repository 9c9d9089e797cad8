package ai

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/claims"
	"github.com/mariahq/maria/processors/home"
	"github.com/mariahq/maria/processors/settings"
	"github.com/mariahq/maria/schemas"
	"github.com/rs/zerolog"
)

// Consumer names.
const (
	// ConsumerName reads maria.in.{mention,message,command,assistant,action}.>
	// (declared in schemas.Consumers).
	ConsumerName = "ai"
	// ResultsConsumerName reads maria.erp.result.> to report write outcomes.
	ResultsConsumerName = "ai-results"
	// TurnBucket holds one idempotency record per answered event.
	TurnBucket = "maria_ai_turns"
	source     = "ai"
)

// Options replace the processor's collaborators (tests, `maria demo`).
type Options struct {
	// Model defaults to an LLM built from the Config.
	Model ChatModel
	// ERP defaults to a NATS requester on maria.erp.query.
	ERP ERPQuerier
	// Now defaults to time.Now.
	Now func() time.Time
	// MemoryTTL is how long an idle thread is remembered (default 30 days).
	MemoryTTL time.Duration
	// Turns wraps the turn records (tests inject failures).
	Turns func(turnStore) turnStore
	// Sleep waits between retries of a failing model or ERP (default a
	// timer); tests pair it with Now to wait without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Settings replaces the workspace settings store (default: the one
	// cfg.Settings names).
	Settings settings.Store
}

// Processor answers Slack questions with the model and ERP tools.
type Processor struct {
	cfg       Config
	b         *bus.Bus
	model     ChatModel
	erp       ERPQuerier
	mem       *Memory
	budgets   *Budgets
	proposals *Proposals
	turns     turnStore
	// sleep waits between retries of a failing dependency (patience.go).
	sleep func(ctx context.Context, d time.Duration) error
	// turnStale is when a turn's claim is presumed abandoned (AckWait).
	turnStale time.Duration
	// unrecorded holds answered turns whose record failed (see turn.go).
	unrecorded unrecorded
	// links is where links in answers may point (see sanitizer).
	links *linkPolicy
	// claims are other processors' claims (claims.go).
	claims *claims.Watcher
	// settings are the workspaces' settings (settings.go); home builds
	// the App Home tab (home.go).
	settings *settings.Cache
	home     *home.Builder
	now      func() time.Time
	log      zerolog.Logger
}

// New opens the processor's KV buckets and builds its collaborators.
func New(ctx context.Context, b *bus.Bus, cfg Config, o Options) (*Processor, error) {
	p := &Processor{cfg: cfg, b: b, model: o.Model, erp: o.ERP, now: o.Now, log: b.Log.With().Str("component", "ai").Logger(),
		links: newLinkPolicy(cfg.LinkHosts), claims: claims.NewWatcher()}
	if p.model == nil {
		p.model = NewLLM(cfg)
	}
	if p.erp == nil {
		p.erp = &NATSQuerier{NC: b.Conn(), Timeout: cfg.ERPTimeout}
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.sleep = o.Sleep; p.sleep == nil {
		p.sleep = sleepCtx
	}
	ttl := o.MemoryTTL
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	replicas := b.Config().Replicas
	var err error
	if p.mem, err = OpenMemory(ctx, b.JetStream(), replicas, cfg.MemoryTokens, ttl); err != nil {
		return nil, err
	}
	if p.budgets, err = OpenBudgets(ctx, b.JetStream(), replicas, cfg.UserDailyTokens, cfg.TeamDailyTokens); err != nil {
		return nil, err
	}
	p.budgets.now = p.now
	if p.proposals, err = OpenProposals(ctx, b.JetStream(), replicas, cfg.ProposalTTL); err != nil {
		return nil, err
	}
	// While a handler runs, the runtime keeps its delivery alive
	// (InProgress), so the same event reaches another replica only after the
	// first one died, AckWait later: a claim that old is presumed abandoned.
	stale := schemas.FailoverAckWait
	if spec, ok := schemas.ConsumerByName(ConsumerName); ok && spec.AckWait > 0 {
		stale = spec.AckWait
	}
	p.turnStale = stale
	if p.turns, err = b.Idempotency(ctx, TurnBucket, 7*24*time.Hour, stale); err != nil {
		return nil, err
	}
	if o.Turns != nil {
		p.turns = o.Turns(p.turns)
	}
	store := o.Settings
	if store == nil {
		if store, err = settings.Open(ctx, cfg.Settings, b.JetStream(), replicas); err != nil {
			return nil, err
		}
	}
	p.settings = settings.NewCache(store, settingsDefaults(cfg), cfg.Settings.CacheTTL, p.log)
	p.home = p.homeBuilder()
	return p, nil
}

// Memory exposes the thread memory (operators' tools, tests).
func (p *Processor) Memory() *Memory { return p.mem }

// Proposals exposes the proposal store.
func (p *Processor) Proposals() *Proposals { return p.proposals }

// Settings exposes the workspaces' settings.
func (p *Processor) Settings() *settings.Cache { return p.settings }

// Home is the App Home tab's builder: add a section to show more there.
func (p *Processor) Home() *home.Builder { return p.home }

// Budgets exposes the token budgets.
func (p *Processor) Budgets() *Budgets { return p.budgets }

// Consumers are the processor's two durable consumers: questions (serialized
// per Slack thread on each replica) and ERP write results.
func (p *Processor) Consumers() []bus.Processor {
	spec, ok := schemas.ConsumerByName(ConsumerName)
	if !ok {
		spec = schemas.ConsumerSpec{Durable: ConsumerName, Stream: schemas.StreamIn, AckWait: schemas.FailoverAckWait, MaxDeliver: 5,
			FilterSubjects: []string{schemas.InKindFilter(schemas.KindMention), schemas.InKindFilter(schemas.KindMessage),
				schemas.InKindFilter(schemas.KindCommand), schemas.InKindFilter(schemas.KindAssistant), schemas.InKindFilter(schemas.KindAction)}}
	}
	main := bus.FromSpec(spec, p.Handle)
	main.Concurrency = p.cfg.Concurrency
	main.Key = threadOf
	results := bus.Processor{
		Name: ResultsConsumerName, Stream: schemas.StreamERP, Subjects: []string{schemas.SubjectERPResultAll},
		Handle: p.HandleResult, Concurrency: 2, AckWait: schemas.FailoverAckWait, MaxDeliver: 5, MaxAckPending: 64,
	}
	return []bus.Processor{main, results}
}

// Service runs both consumers until ctx ends.
func (p *Processor) Service() bus.Service { return p.withClaims(bus.Processors(p.b, p.Consumers()...)) }

// threadOf keys messages by Slack thread so one replica handles a thread's
// messages in order.
func threadOf(m *bus.Msg) string {
	e := m.Env
	ts := e.ThreadTS
	if ts == "" {
		switch e.Type {
		case schemas.TypeSlackMessage, schemas.TypeSlackMention:
			if d, err := schemas.DecodeData[schemas.SlackMessage](e); err == nil {
				ts = d.ThreadTS
				if ts == "" {
					ts = d.TS
				}
			}
		case schemas.TypeSlackAction:
			if d, err := schemas.DecodeData[schemas.SlackAction](e); err == nil {
				ts = d.Value
			}
		}
	}
	return e.Team + "/" + e.Channel + "/" + ts
}

// Handle routes one inbound event.
func (p *Processor) Handle(ctx context.Context, m *bus.Msg) error {
	if strings.HasPrefix(m.Subject, homeSubjects) {
		return p.onHome(ctx, m)
	}
	if p.claimedElsewhere(m) {
		return nil
	}
	switch m.Env.Type {
	case schemas.TypeSlackMention:
		return p.onMessage(ctx, m, true)
	case schemas.TypeSlackMessage:
		return p.onMessage(ctx, m, false)
	case schemas.TypeSlackCommand:
		return p.onCommand(ctx, m)
	case schemas.TypeSlackAssistant:
		return p.onAssistant(ctx, m)
	case schemas.TypeSlackAction:
		return p.onAction(ctx, m)
	}
	metricEvents.WithLabelValues("other", "ignored_type").Inc()
	return nil
}

var leadingMentions = regexp.MustCompile(`^\s*(<@[A-Z0-9]+(\|[^>]*)?>[\s,:]*)+`)

// cleanText drops the leading @Maria mention(s) of a question.
func cleanText(s string) string {
	return strings.TrimSpace(leadingMentions.ReplaceAllString(s, ""))
}

func (p *Processor) onMessage(ctx context.Context, m *bus.Msg, mention bool) error {
	typ := "message"
	if mention {
		typ = "mention"
	}
	msg, err := schemas.DecodeData[schemas.SlackMessage](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	ignore := func(why string) error {
		metricEvents.WithLabelValues(typ, "ignored_"+why).Inc()
		m.Log.Debug().Str("why", why).Msg("ai: not for Maria")
		return nil
	}
	if msg.BotID != "" {
		return ignore("bot")
	}
	switch msg.Subtype {
	case "", "file_share", "thread_broadcast":
	case "message_changed", "message_deleted":
		// The answer already given stands, but memory follows the user:
		// a follow-up must not build on words they edited or deleted.
		return p.revise(ctx, m, msg, typ)
	default:
		return ignore("subtype")
	}
	thread := msg.ThreadTS
	if thread == "" {
		thread = m.Env.ThreadTS
	}
	if thread == "" {
		thread = msg.TS
	}
	if thread == "" {
		return bus.Permanent(fmt.Errorf("%w: %s without ts", schemas.ErrInvalidEnvelope, m.Env.Type))
	}
	if !mention {
		dm := msg.ChannelType == "im" || msg.ChannelType == "app_home"
		if !dm {
			if msg.Mentioned {
				return ignore("mentioned") // the app_mention of the same message is answered
			}
			if msg.ThreadTS == "" || msg.ThreadTS == msg.TS {
				return ignore("not_addressed")
			}
			_, found, err := p.mem.Load(ctx, ThreadKey(m.Env.Team, m.Env.Channel, msg.ThreadTS))
			if err != nil {
				return bus.Retry(err)
			}
			if !found {
				return ignore("not_addressed")
			}
		}
	}
	text := cleanText(msg.Text)
	if text == "" || isHelpRequest(text) {
		if text == "" && len(msg.Files) > 0 {
			return ignore("file_only") // storage handles shared files
		}
		metricEvents.WithLabelValues(typ, "help").Inc()
		_, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "help", schemas.TypeOutPost,
			schemas.OutPost{Text: helpText(m.Env.User), ThreadTS: thread})
		return err
	}
	err = p.answer(ctx, m, turn{text: text, user: m.Env.User, team: m.Env.Team, channel: m.Env.Channel, threadTS: thread, ts: msg.TS,
		channelType: msg.ChannelType, files: msg.Files})
	if err == nil {
		metricEvents.WithLabelValues(typ, "answered").Inc()
	}
	return err
}

// revise applies an edit or deletion of a remembered user message to the
// thread's memory; messages Maria does not remember are ignored.
func (p *Processor) revise(ctx context.Context, m *bus.Msg, msg *schemas.SlackMessage, typ string) error {
	if msg.PreviousTS == "" {
		metricEvents.WithLabelValues(typ, "ignored_subtype").Inc()
		return nil
	}
	thread := firstNonEmpty(msg.ThreadTS, m.Env.ThreadTS, msg.PreviousTS)
	deleted := msg.Subtype == "message_deleted"
	revised, err := p.mem.Revise(ctx, ThreadKey(m.Env.Team, m.Env.Channel, thread), msg.PreviousTS, cleanText(msg.Text), deleted)
	if err != nil {
		return bus.Retry(err)
	}
	outcome := "ignored_not_remembered"
	if revised && deleted {
		outcome = "memory_deleted"
	} else if revised {
		outcome = "memory_edited"
	}
	metricEvents.WithLabelValues(typ, outcome).Inc()
	return nil
}

func (p *Processor) onCommand(ctx context.Context, m *bus.Msg) error {
	cmd, err := schemas.DecodeData[schemas.SlackCommand](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	text := strings.TrimSpace(cmd.Text)
	if verb := schemas.IdentityVerb(text); verb != "" {
		return p.onIdentityCommand(ctx, m, *cmd, verb)
	}
	if text == "" || isHelpRequest(text) {
		metricEvents.WithLabelValues("command", "help").Inc()
		_, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "help", schemas.TypeOutEphemeral,
			schemas.OutEphemeral{User: m.Env.User, Text: helpText(m.Env.User)})
		return err
	}
	// Slash commands have no thread: the answer is a new message in the
	// channel that repeats the question.
	err = p.answer(ctx, m, turn{text: text, user: m.Env.User, team: m.Env.Team, channel: m.Env.Channel,
		prefix: fmt.Sprintf("*<@%s> asked:* %s\n\n", m.Env.User, newSanitizer(p.links, m.Env.User).Sanitize(truncate(text, 500)))})
	if err == nil {
		metricEvents.WithLabelValues("command", "answered").Inc()
	}
	return err
}

func (p *Processor) onAssistant(ctx context.Context, m *bus.Msg) error {
	a, err := schemas.DecodeData[schemas.SlackAssistant](m.Env)
	if err != nil {
		return bus.Permanent(err)
	}
	thread := m.Env.ThreadTS
	if thread == "" {
		metricEvents.WithLabelValues("assistant", "ignored_no_thread").Inc()
		return nil
	}
	key := ThreadKey(m.Env.Team, m.Env.Channel, thread)
	out := schemas.OutSubject(m.Env.Team, m.Env.Channel)
	switch a.Event {
	case "assistant_thread_started":
		if a.ContextChannel != "" {
			if err := p.mem.SetContext(ctx, key, a.ContextChannel); err != nil {
				return bus.Retry(err)
			}
		}
		s, err := p.teamSettings(ctx, m.Env.Team)
		if err != nil {
			return err
		}
		if _, err := m.Publish(ctx, out, "title", schemas.TypeOutTitle, schemas.OutTitle{ThreadTS: thread, Title: s.AssistantTitle}); err != nil {
			return err
		}
		if len(s.SuggestedPrompts) > 0 {
			if _, err := m.Publish(ctx, out, "prompts", schemas.TypeOutPrompts,
				schemas.OutPrompts{ThreadTS: thread, Title: "Ask me about your Odoo data", Prompts: prompts(s)}); err != nil {
				return err
			}
		}
		metricEvents.WithLabelValues("assistant", "started").Inc()
	case "assistant_thread_context_changed":
		if err := p.mem.SetContext(ctx, key, a.ContextChannel); err != nil {
			return bus.Retry(err)
		}
		metricEvents.WithLabelValues("assistant", "context_changed").Inc()
	default:
		metricEvents.WithLabelValues("assistant", "ignored_event").Inc()
	}
	return nil
}

// apologyText is the short, honest reply when the AI service fails.
func apologyText(le *LLMError) string {
	switch le.Kind {
	case FailQuota:
		return "Sorry — I can't reach the AI service right now: its usage quota is used up. Please let an admin know; I'll be back once it is topped up."
	case FailAuth:
		return "Sorry — I can't reach the AI service right now: it refused my credentials. Please let an admin know."
	case FailContextLength:
		return "Sorry — this thread has grown too long for me to follow. Please ask again in a new thread."
	}
	if why := failureReason(le); why != "" {
		return "Sorry — I can't reach the AI service right now: " + why + ". Please ask again in a few minutes."
	}
	return "Sorry — I can't reach the AI service right now. Please ask again in a few minutes."
}

func budgetText(scope string) string {
	if scope == "team" {
		return "Sorry — this workspace has used today's AI allowance, so I can't answer now. It resets at midnight UTC; an admin can raise the limit."
	}
	return "Sorry — you've used your AI allowance for today, so I can't answer now. It resets at midnight UTC; an admin can raise the limit."
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
