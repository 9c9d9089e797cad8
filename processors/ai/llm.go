package ai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/mariahq/maria/bus/telemetry"
	openai "github.com/sashabaranov/go-openai"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// FailKind classifies why a chat completion failed.
type FailKind string

// Failure kinds. Only the first three are retried.
const (
	FailRateLimited   FailKind = "rate_limited"
	FailServer        FailKind = "server_error"
	FailTimeout       FailKind = "timeout"
	FailNetwork       FailKind = "network"
	FailQuota         FailKind = "quota"
	FailAuth          FailKind = "auth"
	FailContextLength FailKind = "context_length"
	FailBadRequest    FailKind = "bad_request"
	FailCanceled      FailKind = "canceled"
	FailExhausted     FailKind = "exhausted"
)

// LLMError is a classified chat completion failure. Its message never
// contains the API key.
type LLMError struct {
	Kind   FailKind
	Status int
	// RetryAfter is what the server asked for (429/5xx), if anything.
	RetryAfter time.Duration
	Err        error
}

func (e *LLMError) Error() string {
	if e.Status > 0 {
		return redactKeys(fmt.Sprintf("ai service %s (HTTP %d): %v", e.Kind, e.Status, e.Err))
	}
	return redactKeys(fmt.Sprintf("ai service %s: %v", e.Kind, e.Err))
}

// apiKeyLike matches OpenAI-style keys that an error body may echo.
var apiKeyLike = regexp.MustCompile(`sk-[A-Za-z0-9_\-*]{4,}`)

func redactKeys(s string) string  { return apiKeyLike.ReplaceAllString(s, "sk-[redacted]") }
func (e *LLMError) Unwrap() error { return e.Err }

func (e *LLMError) retryable() bool {
	switch e.Kind {
	case FailRateLimited, FailServer, FailTimeout, FailNetwork:
		return true
	}
	return false
}

// Completion is the outcome of one (streamed) chat completion.
type Completion struct {
	Content      string
	ToolCalls    []openai.ToolCall
	FinishReason string
	Usage        openai.Usage
}

// ChatModel is what the turn loop needs from a model; LLM implements it
// against any OpenAI-compatible server.
type ChatModel interface {
	Stream(ctx context.Context, req openai.ChatCompletionRequest, onDelta func(string)) (*Completion, error)
}

// LLM calls an OpenAI-compatible chat completions API with streaming,
// per-attempt timeouts and bounded retries that honour Retry-After.
type LLM struct {
	client *openai.Client
	cfg    Config
	// sleep is replaceable in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewLLM builds the client. The HTTP transport records Retry-After from
// error responses because go-openai does not expose response headers on errors.
func NewLLM(cfg Config) *LLM {
	oc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.ResponseHeaderTimeout = cfg.Timeout
	oc.HTTPClient = &http.Client{Transport: &retryAfterTransport{base: base}}
	return &LLM{client: openai.NewClientWithConfig(oc), cfg: cfg, sleep: sleepCtx}
}

type retryAfterKey struct{}

// retryAfterNote receives the Retry-After of the response to one attempt.
type retryAfterNote struct {
	mu    sync.Mutex
	after time.Duration
}

func (n *retryAfterNote) get() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.after
}

// retryAfterTransport copies Retry-After (or OpenAI's retry-after-ms) of
// 429/5xx responses into the note carried by the request context.
type retryAfterTransport struct{ base http.RoundTripper }

func (t *retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		if n, ok := req.Context().Value(retryAfterKey{}).(*retryAfterNote); ok {
			n.mu.Lock()
			n.after = ParseRetryAfter(resp.Header, time.Now())
			n.mu.Unlock()
		}
	}
	return resp, nil
}

// ParseRetryAfter reads retry-after-ms (OpenAI) or Retry-After (seconds or
// an HTTP date). Zero means "not given".
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if ms := strings.TrimSpace(h.Get("retry-after-ms")); ms != "" {
		if f, err := strconv.ParseFloat(ms, 64); err == nil && f > 0 {
			return time.Duration(f * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f <= 0 {
			return 0
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Stream runs one chat completion with streaming, calling onDelta with each
// piece of answer text as it arrives. Rate limits, 5xx, timeouts and network
// errors are retried (bounded by MaxRetries, each wait by MaxRetryWait) as
// long as no text was streamed yet in the failed attempt; everything else
// is returned as an *LLMError.
func (l *LLM) Stream(ctx context.Context, req openai.ChatCompletionRequest, onDelta func(string)) (*Completion, error) {
	req.Stream = true
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 500 * time.Millisecond
	bo.MaxInterval = 8 * time.Second
	bo.MaxElapsedTime = 0
	bo.Reset()
	for attempt := 0; ; attempt++ {
		streamed := false
		comp, err := l.attempt(ctx, req, func(s string) {
			streamed = true
			onDelta(s)
		})
		if err == nil {
			return comp, nil
		}
		var le *LLMError
		if !errors.As(err, &le) {
			le = &LLMError{Kind: FailNetwork, Err: err}
		}
		if !le.retryable() || streamed {
			return nil, le
		}
		if attempt >= l.cfg.MaxRetries {
			return nil, &LLMError{Kind: FailExhausted, Status: le.Status, Err: fmt.Errorf("after %d attempts: %w", attempt+1, le)}
		}
		wait := le.RetryAfter
		if wait <= 0 {
			wait = bo.NextBackOff()
		}
		if wait > l.cfg.MaxRetryWait {
			// The server wants us to stay away longer than a person should
			// wait for an answer: give up honestly now.
			return nil, &LLMError{Kind: FailExhausted, Status: le.Status, RetryAfter: le.RetryAfter,
				Err: fmt.Errorf("server asked to retry after %s: %w", wait.Round(time.Second), le)}
		}
		metricRetries.Inc()
		if err := l.sleep(ctx, wait); err != nil {
			return nil, &LLMError{Kind: FailCanceled, Err: err}
		}
	}
}

func (l *LLM) attempt(ctx context.Context, req openai.ChatCompletionRequest, onDelta func(string)) (*Completion, error) {
	note := &retryAfterNote{}
	actx, cancel := context.WithTimeout(context.WithValue(ctx, retryAfterKey{}, note), l.cfg.Timeout)
	defer cancel()
	actx, span := telemetry.StartSpan(actx, "openai chat.completions",
		attribute.String("gen_ai.system", "openai"),
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", req.Model),
		attribute.Bool("maria.openai.streaming", req.Stream),
		attribute.Int("maria.openai.tools", len(req.Tools)),
		attribute.Int("maria.openai.messages", len(req.Messages)))
	start := time.Now()
	comp, err := l.run(actx, req, onDelta)
	outcome := "ok"
	if err != nil {
		le := classify(ctx, actx, err)
		le.RetryAfter = note.get()
		outcome = string(le.Kind)
		err = le
	}
	metricRequests.WithLabelValues(outcome).Inc()
	metricRequestSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	endLLMSpan(span, outcome, comp, err)
	return comp, err
}

// endLLMSpan records an OpenAI request's outcome, token usage and, on
// failure, the kind and HTTP status only: the error body is not recorded
// (it may echo a key or the prompt).
func endLLMSpan(span trace.Span, outcome string, comp *Completion, err error) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("maria.outcome", outcome))
	if comp != nil {
		span.SetAttributes(
			attribute.Int("gen_ai.usage.input_tokens", comp.Usage.PromptTokens),
			attribute.Int("gen_ai.usage.output_tokens", comp.Usage.CompletionTokens),
			attribute.Int("maria.openai.tool_calls", len(comp.ToolCalls)))
		if comp.FinishReason != "" {
			span.SetAttributes(attribute.StringSlice("gen_ai.response.finish_reasons", []string{comp.FinishReason}))
		}
	}
	var le *LLMError
	if errors.As(err, &le) {
		if le.Status > 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", le.Status))
		}
		if le.RetryAfter > 0 {
			span.SetAttributes(attribute.Float64("maria.openai.retry_after_seconds", le.RetryAfter.Seconds()))
		}
		if le.Status > 0 {
			err = fmt.Errorf("ai service %s (HTTP %d)", le.Kind, le.Status)
		} else {
			err = fmt.Errorf("ai service %s", le.Kind)
		}
	}
	telemetry.EndSpan(span, err)
}

func (l *LLM) run(ctx context.Context, req openai.ChatCompletionRequest, onDelta func(string)) (*Completion, error) {
	stream, err := l.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return nil, err
	}
	defer stream.Close()
	var (
		content strings.Builder
		calls   = map[int]*openai.ToolCall{}
		comp    = &Completion{}
	)
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if chunk.Usage != nil {
			comp.Usage = *chunk.Usage
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.Delta.Content != "" {
				content.WriteString(ch.Delta.Content)
				onDelta(ch.Delta.Content)
			}
			for _, tc := range ch.Delta.ToolCalls {
				idx := len(calls)
				if tc.Index != nil {
					idx = *tc.Index
				}
				c, ok := calls[idx]
				if !ok {
					c = &openai.ToolCall{Type: openai.ToolTypeFunction}
					calls[idx] = c
				}
				if tc.ID != "" {
					c.ID = tc.ID
				}
				if tc.Function.Name != "" {
					c.Function.Name = tc.Function.Name
				}
				c.Function.Arguments += tc.Function.Arguments
			}
			if ch.FinishReason != "" {
				comp.FinishReason = string(ch.FinishReason)
			}
		}
	}
	comp.Content = content.String()
	idxs := make([]int, 0, len(calls))
	for i := range calls {
		idxs = append(idxs, i)
	}
	sort.Ints(idxs)
	for n, i := range idxs {
		c := *calls[i]
		if c.ID == "" {
			c.ID = fmt.Sprintf("call_%d", n)
		}
		comp.ToolCalls = append(comp.ToolCalls, c)
	}
	return comp, nil
}

// classify maps a go-openai or transport error to an LLMError. parent is
// the turn's context, attempt the per-attempt one (with the timeout).
func classify(parent, attempt context.Context, err error) *LLMError {
	if parent.Err() != nil {
		return &LLMError{Kind: FailCanceled, Err: parent.Err()}
	}
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		code := ""
		if apiErr.Code != nil {
			code = fmt.Sprint(apiErr.Code)
		}
		return classifyStatus(apiErr.HTTPStatusCode, code, apiErr.Type, apiErr.Message, err)
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return classifyStatus(reqErr.HTTPStatusCode, "", "", string(reqErr.Body), err)
	}
	if attempt.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return &LLMError{Kind: FailTimeout, Err: errors.New("request timed out")}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &LLMError{Kind: FailNetwork, Err: err}
	}
	return &LLMError{Kind: FailNetwork, Err: err}
}

func classifyStatus(status int, code, typ, msg string, err error) *LLMError {
	lower := strings.ToLower(msg)
	switch {
	case code == "insufficient_quota" || typ == "insufficient_quota":
		return &LLMError{Kind: FailQuota, Status: status, Err: err}
	case code == "context_length_exceeded" || strings.Contains(lower, "maximum context length") ||
		strings.Contains(lower, "context length") && strings.Contains(lower, "exceed"):
		return &LLMError{Kind: FailContextLength, Status: status, Err: err}
	case status == http.StatusTooManyRequests:
		return &LLMError{Kind: FailRateLimited, Status: status, Err: err}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &LLMError{Kind: FailAuth, Status: status, Err: err}
	case status == http.StatusRequestTimeout:
		return &LLMError{Kind: FailTimeout, Status: status, Err: err}
	case status >= 500:
		return &LLMError{Kind: FailServer, Status: status, Err: err}
	case status >= 400:
		return &LLMError{Kind: FailBadRequest, Status: status, Err: err}
	case status == 0:
		// An error event inside the stream without an HTTP status.
		if strings.Contains(lower, "rate limit") {
			return &LLMError{Kind: FailRateLimited, Err: err}
		}
		return &LLMError{Kind: FailServer, Err: err}
	}
	return &LLMError{Kind: FailBadRequest, Status: status, Err: err}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
