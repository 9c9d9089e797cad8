package ai

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// fakeClock is a turn's clock that moves only when the turn sleeps, so a
// 45-s patience is spent in microseconds and exactly.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	return nil
}

func (c *fakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// failLLM fails one model call with le.
func failLLM(le *LLMError) step {
	return func(openai.ChatCompletionRequest) (*Completion, error) { return nil, le }
}

// unavailableFor answers the first n ERP queries "unavailable" (as the
// query service does with Odoo down or its breaker open), then orders.
func unavailableFor(n int64) func(schemas.ERPQuery) schemas.ERPReply {
	var seen atomic.Int64
	return func(q schemas.ERPQuery) schemas.ERPReply {
		if seen.Add(1) <= n {
			return schemas.ERPReply{Error: "Odoo is unavailable (circuit open after 5 consecutive failures; last: HTTP 502)", Kind: "unavailable"}
		}
		return orderReply(q)
	}
}

func readOrder() step {
	return callTool(ToolSearchRead, map[string]any{"model": "sale.order", "domain": []any{[]any{"name", "=", "S00042"}}, "fields": []string{"name"}})
}

// statusesOf lists the thread statuses the turn set, in order.
func statusesOf(t *testing.T, h *harness) []string {
	var out []string
	for _, e := range h.outputs(schemas.TypeOutStatus) {
		d, err := schemas.DecodeData[schemas.OutStatus](e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Status)
	}
	return out
}

// patientHarness is a harness whose turns wait up to patience on a fake
// clock.
func patientHarness(t *testing.T, patience time.Duration) (*harness, *fakeClock) {
	clk := newFakeClock()
	cfg := testConfig()
	cfg.DependencyPatience = patience
	return newHarnessWith(t, cfg, Options{Now: clk.Now, Sleep: clk.Sleep}), clk
}

// askAndWait mentions Maria with text and waits for the one answer to end
// and the question to be acknowledged.
func askAndWait(t *testing.T, h *harness, text string) {
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "", schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> " + text})
	bustest.Eventually(t, 10*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) >= 1 }, "no answer")
	waitAcked(t, h.b, ConsumerName)
	if n := len(h.outputs(schemas.TypeOutStreamStop)); n != 1 {
		t.Fatalf("%d answers, want 1", n)
	}
}

// longestWait is the longest single backoff interval (waitMax plus the
// backoff's default ±50 % randomization).
const longestWait = waitMax * 3 / 2

func TestTurnWaitsOutTransientFailures(t *testing.T) {
	const patience = 45 * time.Second
	exhausted := &LLMError{Kind: FailExhausted, Status: 503,
		Err: fmt.Errorf("after 4 attempts: %w", &LLMError{Kind: FailNetwork, Err: errors.New("connection refused")})}
	cases := []struct {
		name  string
		steps []step
		erp   func(schemas.ERPQuery) schemas.ERPReply
		// want is in the answer, never is not.
		want, never []string
		modelCalls  int
		erpQueries  int
		waitStatus  string // the status shown while waiting; "" = no wait
		// minSlept/maxSlept bound the time the turn waited.
		minSlept, maxSlept time.Duration
	}{
		{name: "model fails three times then answers",
			steps: []step{fail(FailServer), fail(FailTimeout), fail(FailNetwork), say("S00042 is confirmed.")},
			want:  []string{"S00042 is confirmed."}, never: []string{"can't reach"},
			modelCalls: 4, waitStatus: depModel.waitStatus(), minSlept: 3 * waitFirst / 2, maxSlept: 3 * longestWait},
		{name: "model client gave up on a connection refused, then the model is back",
			steps: []step{failLLM(exhausted), failLLM(exhausted), say("S00042 is confirmed.")},
			want:  []string{"S00042 is confirmed."}, never: []string{"can't reach"},
			modelCalls: 3, waitStatus: depModel.waitStatus(), minSlept: waitFirst / 2, maxSlept: 2 * longestWait},
		{name: "rate limit with Retry-After is waited exactly",
			steps:      []step{failLLM(&LLMError{Kind: FailRateLimited, Status: 429, RetryAfter: 7 * time.Second, Err: errors.New("slow down")}), say("S00042 is confirmed.")},
			want:       []string{"S00042 is confirmed."},
			modelCalls: 2, waitStatus: depModel.waitStatus(), minSlept: 7 * time.Second, maxSlept: 7 * time.Second},
		{name: "ERP unavailable then back",
			steps: []step{readOrder(), say("S00042 is confirmed for Azure Interior.")},
			erp:   unavailableFor(4),
			want:  []string{"Azure Interior"}, never: []string{"can't reach", "ask again"},
			modelCalls: 2, erpQueries: 5, waitStatus: depERP.waitStatus(), minSlept: 4 * waitFirst / 2, maxSlept: 4 * longestWait},
		{name: "model down past the patience: one apology saying what failed",
			steps: nil, // the fake model fails with a server error when nothing is scripted
			want:  []string{"can't reach the AI service right now: it keeps failing with server errors", "ask again"},
			// at least one call per maximal wait, and never past the deadline
			modelCalls: -1, waitStatus: depModel.waitStatus(), minSlept: patience, maxSlept: patience + time.Second},
		{name: "Retry-After beyond the patience gives up at once",
			steps:      []step{failLLM(&LLMError{Kind: FailRateLimited, Status: 429, RetryAfter: time.Minute, Err: errors.New("slow down")})},
			want:       []string{"can't reach the AI service right now: it keeps asking me to slow down", "ask again"},
			modelCalls: 1},
		{name: "quota is final",
			steps: []step{fail(FailQuota)}, want: []string{"usage quota is used up"}, modelCalls: 1},
		{name: "auth is final",
			steps: []step{fail(FailAuth)}, want: []string{"refused my credentials"}, modelCalls: 1},
		{name: "bad request is final",
			steps: []step{fail(FailBadRequest)}, want: []string{"can't reach the AI service"}, modelCalls: 1},
		{name: "ERP refusal is final",
			steps: []step{callTool(ToolSearchRead, map[string]any{"model": "hr.employee"}), say("I may not read that.")},
			erp:   orderReply, want: []string{"I may not read that."}, modelCalls: 2, erpQueries: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, clk := patientHarness(t, patience)
			erp := startERPStub(t, h.b, func(q schemas.ERPQuery) schemas.ERPReply {
				if tc.erp == nil {
					t.Errorf("unexpected ERP query %+v", q)
					return schemas.ERPReply{Error: "no", Kind: "refused"}
				}
				return tc.erp(q)
			})
			h.model.push(tc.steps...)
			askAndWait(t, h, "what is the status of S00042?")
			got := streamedText(t, h.outputs(""))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer %q lacks %q", got, w)
				}
			}
			for _, w := range tc.never {
				if strings.Contains(got, w) {
					t.Errorf("answer %q has %q", got, w)
				}
			}
			calls := len(h.model.requests())
			switch {
			case tc.modelCalls >= 0 && calls != tc.modelCalls:
				t.Errorf("model called %d times, want %d", calls, tc.modelCalls)
			case tc.modelCalls < 0 && calls < int(patience/longestWait):
				t.Errorf("model called %d times in %s of patience", calls, patience)
			}
			if n := len(erp.all()); n != tc.erpQueries {
				t.Errorf("ERP queried %d times, want %d", n, tc.erpQueries)
			}
			if s := clk.Slept(); s < tc.minSlept || s > tc.maxSlept {
				t.Errorf("waited %s, want %s..%s", s, tc.minSlept, tc.maxSlept)
			}
			statuses := statusesOf(t, h)
			waits := 0
			for _, s := range statuses {
				if strings.HasPrefix(s, "is waiting for") {
					waits++
					if s != tc.waitStatus {
						t.Errorf("status %q while waiting, want %q", s, tc.waitStatus)
					}
				}
			}
			want := 0
			if tc.waitStatus != "" {
				want = 1
			}
			if waits != want {
				t.Errorf("%d waiting statuses %q, want %d (once per outage, not per retry)", waits, statuses, want)
			}
			if last := statuses[len(statuses)-1]; last != "" {
				t.Errorf("status not cleared at the end: %q", statuses)
			}
		})
	}
}

// An ERP that stays down past the patience: the model hears that it is
// unavailable and that the user can ask again, and answers once.
func TestERPDownPastPatienceTellsTheModel(t *testing.T) {
	const patience = 20 * time.Second
	h, clk := patientHarness(t, patience)
	erp := startERPStub(t, h.b, unavailableFor(1<<40))
	h.model.push(readOrder(), say("The ERP is down; please ask again later."))
	askAndWait(t, h, "what is the status of S00042?")
	// The question arrived a little after the clock started (the
	// envelope's time is the wall clock's).
	if s := clk.Slept(); s < patience || s > patience+time.Second {
		t.Fatalf("waited %s, want the whole patience %s", s, patience)
	}
	if n := len(erp.all()); n < int(patience/longestWait) {
		t.Fatalf("ERP tried %d times in %s", n, patience)
	}
	reqs := h.model.requests()
	if len(reqs) != 2 {
		t.Fatalf("model called %d times", len(reqs))
	}
	tool := reqs[1].Messages[len(reqs[1].Messages)-1]
	if tool.Role != openai.ChatMessageRoleTool || !strings.Contains(tool.Content, `"kind":"unavailable"`) ||
		!strings.Contains(tool.Content, "still unavailable after 20s of retries") || !strings.Contains(tool.Content, "ask again") {
		t.Fatalf("tool result = %+v", tool)
	}
}

// The patience counts from when the question arrived: a delivery that
// starts after it was spent (a redelivery after a long stall) answers at
// the first failure.
func TestPatienceCountsFromTheQuestion(t *testing.T) {
	h, clk := patientHarness(t, 30*time.Second)
	_ = clk.Sleep(context.Background(), time.Minute) // the question waited a minute before this turn
	h.model.push(fail(FailServer), say("too late"))
	askAndWait(t, h, "hi")
	if got := streamedText(t, h.outputs("")); !strings.Contains(got, "it keeps failing with server errors") {
		t.Fatalf("answer = %q", got)
	}
	if n := len(h.model.requests()); n != 1 {
		t.Fatalf("model called %d times, want 1", n)
	}
}

// A thread waiting for the ERP holds one worker; another thread's question
// is answered meanwhile, and the waiting one answers normally once the ERP
// is back.
func TestWaitingThreadDoesNotBlockOthers(t *testing.T) {
	cfg := testConfig()
	cfg.DependencyPatience = time.Minute
	h := newHarnessWith(t, cfg, Options{})
	answered := make(chan struct{}) // closed when thread B's answer is out
	startERPStub(t, h.b, func(q schemas.ERPQuery) schemas.ERPReply {
		select {
		case <-answered:
			return orderReply(q)
		default:
			return schemas.ERPReply{Error: "the ERP query service is not running", Kind: "unavailable"}
		}
	})
	// Thread A reads the ERP; thread B only talks to the model. The fake
	// model serves requests in arrival order: A's first, then B's.
	h.model.push(readOrder())
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "evA", "U1", "", schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> S00042?"})
	bustest.Eventually(t, 5*time.Second, func() bool {
		for _, s := range statusesOf(t, h) {
			if s == depERP.waitStatus() {
				return true
			}
		}
		return false
	}, "thread A never waited for the ERP")
	h.model.push(say("Hello from thread B."))
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "evB", "U2", "", schemas.SlackMessage{TS: "200.1", Text: "<@UMARIA> hello"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "thread B waited behind thread A")
	if got := streamedText(t, h.outputs("")); !strings.Contains(got, "thread B") {
		t.Fatalf("first answer = %q, want thread B's", got)
	}
	h.model.push(say("S00042 is confirmed for Azure Interior."))
	close(answered)
	bustest.Eventually(t, 10*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 2 }, "thread A never answered")
	if got := streamedText(t, h.outputs("")); !strings.Contains(got, "Azure Interior") || strings.Contains(got, "ask again") {
		t.Fatalf("answers = %q", got)
	}
	waitAcked(t, h.b, ConsumerName)
}

func TestLoadPatience(t *testing.T) {
	cases := []struct {
		value string
		want  time.Duration
		err   string
	}{
		{"", DefaultDependencyPatience, ""},
		{"0", 0, ""},
		{"20s", 20 * time.Second, ""},
		{"2m", 2 * time.Minute, ""},
		{"1h", DefaultDependencyPatience, "at most 10m0s"},
		{"-5s", DefaultDependencyPatience, "MARIA_AI_DEPENDENCY_PATIENCE"},
		{"soon", DefaultDependencyPatience, "MARIA_AI_DEPENDENCY_PATIENCE"},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			vars := map[string]string{"OPENAI_API_KEY": "sk-x"}
			if tc.value != "" {
				vars["MARIA_AI_DEPENDENCY_PATIENCE"] = tc.value
			}
			env := config.NewEnvFrom(vars)
			c := LoadConfig(env)
			err := env.Err()
			if c.DependencyPatience != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("patience %s, err %v; want %s, %q", c.DependencyPatience, err, tc.want, tc.err)
			}
		})
	}
}
