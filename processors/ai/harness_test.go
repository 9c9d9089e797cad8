package ai

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	openai "github.com/sashabaranov/go-openai"
)

// step is one scripted model answer.
type step func(req openai.ChatCompletionRequest) (*Completion, error)

// fakeModel replays scripted steps and records requests.
type fakeModel struct {
	mu    sync.Mutex
	steps []step
	reqs  []openai.ChatCompletionRequest
}

func (f *fakeModel) push(s ...step) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, s...)
}

func (f *fakeModel) requests() []openai.ChatCompletionRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]openai.ChatCompletionRequest(nil), f.reqs...)
}

func (f *fakeModel) Stream(_ context.Context, req openai.ChatCompletionRequest, onDelta func(string)) (*Completion, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	if len(f.steps) == 0 {
		f.mu.Unlock()
		return nil, &LLMError{Kind: FailServer, Err: errors.New("fake model: nothing scripted")}
	}
	s := f.steps[0]
	f.steps = f.steps[1:]
	f.mu.Unlock()
	c, err := s(req)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(c.Content); i += 7 {
		onDelta(c.Content[i:min(i+7, len(c.Content))])
	}
	return c, nil
}

func say(text string) step {
	return func(openai.ChatCompletionRequest) (*Completion, error) {
		return &Completion{Content: text, Usage: openai.Usage{PromptTokens: 100, CompletionTokens: 20, TotalTokens: 120}}, nil
	}
}

func callTool(name string, args any) step {
	return func(openai.ChatCompletionRequest) (*Completion, error) {
		raw, _ := json.Marshal(args)
		return &Completion{ToolCalls: []openai.ToolCall{{ID: "call_" + name, Type: openai.ToolTypeFunction,
			Function: openai.FunctionCall{Name: name, Arguments: string(raw)}}}, Usage: openai.Usage{PromptTokens: 80, CompletionTokens: 10}}, nil
	}
}

func fail(kind FailKind) step {
	return func(openai.ChatCompletionRequest) (*Completion, error) {
		return nil, &LLMError{Kind: kind, Err: errors.New("scripted failure")}
	}
}

// erpStub answers maria.erp.query on the test bus.
type erpStub struct {
	mu      sync.Mutex
	queries []schemas.ERPQuery
	answer  func(q schemas.ERPQuery) schemas.ERPReply
}

func startERPStub(t *testing.T, b *bus.Bus, answer func(q schemas.ERPQuery) schemas.ERPReply) *erpStub {
	t.Helper()
	s := &erpStub{answer: answer}
	sub, err := b.Conn().Subscribe(schemas.SubjectERPQuery, func(m *nats.Msg) {
		var q schemas.ERPQuery
		if err := json.Unmarshal(m.Data, &q); err != nil {
			_ = m.Respond([]byte(`{"error":"bad query","kind":"refused"}`))
			return
		}
		s.mu.Lock()
		s.queries = append(s.queries, q)
		s.mu.Unlock()
		raw, _ := json.Marshal(s.answer(q))
		_ = m.Respond(raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return s
}

func (s *erpStub) all() []schemas.ERPQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]schemas.ERPQuery(nil), s.queries...)
}

type harness struct {
	t     *testing.T
	b     *bus.Bus
	p     *Processor
	model *fakeModel
	out   func() []*nats.Msg
}

func testConfig() Config {
	return Config{APIKey: "sk-test", Model: "test-model", Timeout: 5 * time.Second, MaxToolRounds: 4, MaxRetries: 0,
		MaxRetryWait: time.Second, ERPTimeout: 2 * time.Second, MemoryTokens: 2000, UserDailyTokens: 100000,
		TeamDailyTokens: 1000000, StreamFlushChars: 10, StreamFlushInterval: time.Hour, Concurrency: 4, ProposalTTL: time.Hour,
		ERP: testERPPolicy("C1")}
}

// testERPPolicy enables ERP reads and writes in the listed conversations.
func testERPPolicy(channels string) ERPPolicy {
	l, errs := ParseChannelList("test", channels)
	if len(errs) > 0 {
		panic(errs[0])
	}
	return ERPPolicy{Read: l, Write: l}
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, Options{})
}

// newHarnessWith starts a processor with o (its Model is the harness's).
func newHarnessWith(t *testing.T, cfg Config, o Options) *harness {
	t.Helper()
	b := bustest.New(t)
	h := &harness{t: t, b: b, model: &fakeModel{}}
	h.out = bustest.Subscribe(t, b, schemas.SubjectOutAll)
	ctx, cancel := context.WithCancel(context.Background())
	o.Model = h.model
	p, err := New(ctx, b, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	done := make(chan struct{})
	go func() { _ = p.Service().Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// inbound publishes an event as ingress would, from a workspace member.
func (h *harness) inbound(kind, typ, id, user, thread string, data any) *schemas.Envelope {
	h.t.Helper()
	return h.inboundAs(schemas.UserKindMember, kind, typ, id, user, thread, data)
}

// inboundAs publishes an event from a user ingress classified as userKind.
func (h *harness) inboundAs(userKind, kind, typ, id, user, thread string, data any) *schemas.Envelope {
	h.t.Helper()
	env, err := schemas.New(id, typ, "ingress", data)
	if err != nil {
		h.t.Fatal(err)
	}
	env.Team, env.Channel, env.User, env.ThreadTS, env.UserKind = "T1", "C1", user, thread, userKind
	if _, err := h.b.Publish(context.Background(), schemas.InSubject(kind, "T1", "C1"), env); err != nil {
		h.t.Fatal(err)
	}
	return env
}

// outputs decodes the commands sent to egress, optionally of one type.
func (h *harness) outputs(typ string) []*schemas.Envelope {
	var envs []*schemas.Envelope
	for _, m := range h.out() {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			h.t.Fatalf("bad output: %v", err)
		}
		if typ == "" || env.Type == typ {
			envs = append(envs, env)
		}
	}
	return envs
}

// streamed returns the concatenated markdown of a stream: its start (the
// first batch), appends and stop (the rest).
func streamedText(t *testing.T, envs []*schemas.Envelope) string {
	var s string
	for _, e := range envs {
		switch e.Type {
		case schemas.TypeOutStreamStart, schemas.TypeOutStreamAppend, schemas.TypeOutStreamStop:
			d, err := schemas.DecodeData[schemas.OutStream](e)
			if err != nil {
				t.Fatal(err)
			}
			s += d.Markdown
		}
	}
	return s
}
