package ai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	openai "github.com/sashabaranov/go-openai"
)

// scriptedAPI answers chat completions with canned HTTP responses.
type scriptedAPI struct {
	mu    sync.Mutex
	resps []func(w http.ResponseWriter)
	calls int
}

func (s *scriptedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	var f func(http.ResponseWriter)
	if len(s.resps) > 0 {
		f, s.resps = s.resps[0], s.resps[1:]
	}
	s.mu.Unlock()
	if f == nil {
		http.Error(w, `{"error":{"message":"nothing scripted","type":"server_error"}}`, 500)
		return
	}
	f(w)
}

func apiError(status int, retryAfter, typ, code string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"scripted %d","type":%q,"param":null,"code":%q}}`, status, typ, code)
	}
}

func sse(chunks ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range chunks {
			fmt.Fprintf(w, "data: %s\n\n", c)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

func newTestLLM(t *testing.T, api *scriptedAPI, retries int) (*LLM, *[]time.Duration) {
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg := testConfig()
	cfg.BaseURL, cfg.MaxRetries, cfg.MaxRetryWait = srv.URL+"/v1", retries, 30*time.Second
	l := NewLLM(cfg)
	var waits []time.Duration
	l.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return l, &waits
}

func TestLLMAssemblesStreamedToolCallsAndUsage(t *testing.T) {
	api := &scriptedAPI{resps: []func(http.ResponseWriter){sse(
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Let me "}}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"check."}}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"odoo_count","arguments":""}}]}}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"odoo_fields","arguments":"{\"mo"}}]}}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"model\":\"crm.lead\"}"}}]}}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"del\":\"sale.order\"}"}}]}}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":12,"total_tokens":62}}`,
	)}}
	l, _ := newTestLLM(t, api, 0)
	var deltas []string
	c, err := l.Stream(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}},
		func(s string) { deltas = append(deltas, s) })
	if err != nil {
		t.Fatal(err)
	}
	if c.Content != "Let me check." || strings.Join(deltas, "|") != "Let me |check." {
		t.Fatalf("content %q deltas %q", c.Content, deltas)
	}
	if len(c.ToolCalls) != 2 || c.ToolCalls[0].ID != "call_a" || c.ToolCalls[0].Function.Arguments != `{"model":"crm.lead"}` ||
		c.ToolCalls[1].Function.Name != "odoo_fields" || c.ToolCalls[1].Function.Arguments != `{"model":"sale.order"}` {
		t.Fatalf("tool calls = %+v", c.ToolCalls)
	}
	if c.Usage.PromptTokens != 50 || c.Usage.CompletionTokens != 12 || c.FinishReason != "tool_calls" {
		t.Fatalf("usage %+v finish %q", c.Usage, c.FinishReason)
	}
}

func TestLLMRetriesRateLimitHonouringRetryAfter(t *testing.T) {
	api := &scriptedAPI{resps: []func(http.ResponseWriter){
		apiError(429, "7", "requests", "rate_limit_exceeded"),
		apiError(503, "", "server_error", ""),
		sse(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"ok"}}]}`),
	}}
	l, waits := newTestLLM(t, api, 3)
	c, err := l.Stream(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if c.Content != "ok" || api.calls != 3 {
		t.Fatalf("content %q after %d calls", c.Content, api.calls)
	}
	if len(*waits) != 2 || (*waits)[0] != 7*time.Second || (*waits)[1] <= 0 || (*waits)[1] > 8*time.Second {
		t.Fatalf("waits = %v, want Retry-After 7s then a backoff", *waits)
	}
}

func TestLLMDoesNotRetryQuotaOrAuth(t *testing.T) {
	for _, tc := range []struct {
		resp func(http.ResponseWriter)
		kind FailKind
	}{
		{apiError(429, "1", "insufficient_quota", "insufficient_quota"), FailQuota},
		{apiError(401, "", "invalid_request_error", "invalid_api_key"), FailAuth},
		{apiError(400, "", "invalid_request_error", "context_length_exceeded"), FailContextLength},
	} {
		api := &scriptedAPI{resps: []func(http.ResponseWriter){tc.resp}}
		l, _ := newTestLLM(t, api, 3)
		_, err := l.Stream(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}, func(string) {})
		var le *LLMError
		if !errors.As(err, &le) || le.Kind != tc.kind || api.calls != 1 {
			t.Fatalf("err %v (calls %d), want %s without retry", err, api.calls, tc.kind)
		}
	}
}

func TestLLMExhaustsRetriesAndRefusesLongRetryAfter(t *testing.T) {
	api := &scriptedAPI{resps: []func(http.ResponseWriter){apiError(500, "", "server_error", ""), apiError(502, "", "server_error", ""), apiError(500, "", "server_error", "")}}
	l, _ := newTestLLM(t, api, 2)
	_, err := l.Stream(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}, func(string) {})
	var le *LLMError
	if !errors.As(err, &le) || le.Kind != FailExhausted || api.calls != 3 {
		t.Fatalf("err %v after %d calls", err, api.calls)
	}
	api = &scriptedAPI{resps: []func(http.ResponseWriter){apiError(429, "3600", "requests", "rate_limit_exceeded")}}
	l, waits := newTestLLM(t, api, 2)
	_, err = l.Stream(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}, func(string) {})
	if !errors.As(err, &le) || le.Kind != FailExhausted || len(*waits) != 0 {
		t.Fatalf("err %v waits %v: an hour-long Retry-After must not be waited for", err, *waits)
	}
}

func TestLLMTimeout(t *testing.T) {
	api := &scriptedAPI{resps: []func(http.ResponseWriter){func(w http.ResponseWriter) { time.Sleep(500 * time.Millisecond) }}}
	l, _ := newTestLLM(t, api, 0)
	l.cfg.Timeout = 100 * time.Millisecond
	_, err := l.Stream(context.Background(), openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}, func(string) {})
	var le *LLMError
	if !errors.As(err, &le) || le.Kind != FailExhausted || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("Retry-After", "3")
	if d := ParseRetryAfter(h, now); d != 3*time.Second {
		t.Fatal(d)
	}
	h.Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
	if d := ParseRetryAfter(h, now); d != 90*time.Second {
		t.Fatal(d)
	}
	h.Set("retry-after-ms", "250")
	if d := ParseRetryAfter(h, now); d != 250*time.Millisecond {
		t.Fatal(d)
	}
	if d := ParseRetryAfter(http.Header{}, now); d != 0 {
		t.Fatal(d)
	}
}

func TestConfigNeedsKeyOrBaseURL(t *testing.T) {
	e := config.NewEnvFrom(map[string]string{})
	LoadConfig(e)
	if err := e.Err(); err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY") || !strings.Contains(err.Error(), "OPENAI_BASE_URL") {
		t.Fatalf("err = %v", err)
	}
	e = config.NewEnvFrom(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1", "MARIA_AI_TIMEOUT": "10s"})
	c := LoadConfig(e)
	if err := e.Err(); err != nil || c.Timeout != 10*time.Second || c.Model != DefaultModel {
		t.Fatalf("cfg %+v err %v", c, err)
	}
	e = config.NewEnvFrom(map[string]string{"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "not a url"})
	LoadConfig(e)
	if err := e.Err(); err == nil || strings.Contains(err.Error(), "sk-x") {
		t.Fatalf("err = %v", err)
	}
}

func TestMemoryTrimKeepsRunningSummary(t *testing.T) {
	th := &Thread{}
	for i := 0; i < 40; i++ {
		th.Entries = append(th.Entries, Entry{ID: fmt.Sprint(i), Role: RoleUser, User: "U1", Text: fmt.Sprintf("question %d %s", i, strings.Repeat("x", 200))})
	}
	folded := th.Trim(500)
	if folded == 0 || th.Tokens() > 500 || len(th.Entries) == 0 {
		t.Fatalf("folded %d tokens %d entries %d", folded, th.Tokens(), len(th.Entries))
	}
	if th.Entries[len(th.Entries)-1].ID != "39" || !strings.Contains(th.Summary, "asked: question") {
		t.Fatalf("summary %q last %s", th.Summary, th.Entries[len(th.Entries)-1].ID)
	}
}

// Two replicas appending to one thread at once lose nothing (CAS).
func TestMemoryConcurrentAppends(t *testing.T) {
	b := bustest.New(t)
	other := bustest.Client(t, b, nil)
	ctx := context.Background()
	m1, err := OpenMemory(ctx, b.JetStream(), 1, 100000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := OpenMemory(ctx, other.JetStream(), 1, 100000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := m1
			if i%2 == 1 {
				m = m2
			}
			if err := m.Append(ctx, "T.C.thread", 0, Entry{ID: fmt.Sprint(i), Role: RoleUser, Text: "hi"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// A redelivered append adds nothing.
	if err := m1.Append(ctx, "T.C.thread", 0, Entry{ID: "3", Role: RoleUser, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	th, _, err := m1.Load(ctx, "T.C.thread")
	if err != nil || len(th.Entries) != 20 {
		t.Fatalf("%d entries, err %v", len(th.Entries), err)
	}
}

func TestLLMErrorRedactsKeys(t *testing.T) {
	e := &LLMError{Kind: FailAuth, Status: 401, Err: errors.New("Incorrect API key provided: sk-proj-abc123****wxyz.")}
	if strings.Contains(e.Error(), "abc123") {
		t.Fatalf("key leaked: %s", e.Error())
	}
}
