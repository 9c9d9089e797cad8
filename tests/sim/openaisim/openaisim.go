// Package openaisim is an OpenAI-compatible chat completions server for
// tests and `maria demo`. It speaks the wire shapes of the real API:
// POST /v1/chat/completions (and /chat/completions) with tools and tool-call
// responses, non-streamed JSON or streamed server-sent events (role chunk,
// content and tool_calls fragments with index/id/name/arguments, a final
// usage chunk when stream_options.include_usage is set, then "data: [DONE]"),
// usage counts, and errors in OpenAI's JSON error shape.
//
// Tests script it per request: a queue of Responses (consumed in order),
// and/or a Handler func called when the queue is empty. Errors can be
// injected: 429 rate limits with Retry-After, 429 insufficient_quota, 5xx,
// context length errors, slow responses. Every request is recorded so a
// test can assert what the client sent (e.g. that a follow-up carries the
// earlier turn). Rules() is a small deterministic "brain" for offline demos.
package openaisim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is a decoded chat completion request.
type Request struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          any             `json:"tool_choice,omitempty"`
	ParallelToolCalls   any             `json:"parallel_tool_calls,omitempty"`
	Stream              bool            `json:"stream"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	MaxTokens           int             `json:"max_tokens,omitempty"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Raw                 json.RawMessage `json:"-"`
	Header              http.Header     `json:"-"`
	Path                string          `json:"-"`
}

// StreamOptions of a streamed request.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one chat message. Content is a string or an array of parts.
type Message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content,omitempty"`
	Name       string          `json:"name,omitempty"`
	ToolCalls  []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// Text returns the message's text (string content, or the text parts joined).
func (m Message) Text() string {
	if len(m.Content) == 0 || string(m.Content) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "text" {
				b.WriteString(p.Text)
			}
		}
		return b.String()
	}
	return string(m.Content)
}

// Tool is a tool offered by the client.
type Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
	} `json:"function"`
}

// ToolCall is a call the model makes (or made, in a request's history).
type ToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries JSON arguments.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Response scripts one answer of the simulator.
type Response struct {
	// Content is the assistant text.
	Content string
	// ToolCalls the model makes; ids are generated when empty.
	ToolCalls []ToolCall
	// FinishReason defaults to "tool_calls" with calls, else "stop".
	FinishReason string
	// Usage defaults to an estimate (about four characters per token).
	Usage *Usage

	// Status >= 400 answers with an error in OpenAI's shape.
	Status       int
	ErrorType    string
	ErrorCode    string
	ErrorMessage string
	// RetryAfter is sent as the Retry-After header (seconds, e.g. "1").
	RetryAfter string

	// Delay waits before answering (slow responses, timeouts).
	Delay time.Duration
	// ChunkSize is the number of characters per streamed content chunk (default 6).
	ChunkSize int
	// ChunkDelay waits between streamed chunks.
	ChunkDelay time.Duration
	// StreamError, when set, aborts a stream after the content with an
	// error event ("data: {"error": ...}") instead of finishing it.
	StreamError string
}

// Text is a plain answer.
func Text(s string) Response { return Response{Content: s} }

// Call is a response with one tool call; args is encoded as JSON.
func Call(name string, args any) Response { return Calls(NewCall(name, args)) }

// Calls is a response with parallel tool calls.
func Calls(calls ...ToolCall) Response { return Response{ToolCalls: calls} }

// NewCall builds a tool call; args is encoded as JSON (a string is used as is).
func NewCall(name string, args any) ToolCall {
	var a string
	switch v := args.(type) {
	case string:
		a = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("openaisim: encode args: %v", err))
		}
		a = string(b)
	}
	return ToolCall{Type: "function", Function: FunctionCall{Name: name, Arguments: a}}
}

// RateLimited is a 429 rate limit asking to retry after retryAfter seconds.
func RateLimited(retryAfter string) Response {
	return Response{Status: 429, ErrorType: "requests", ErrorCode: "rate_limit_exceeded", RetryAfter: retryAfter,
		ErrorMessage: "Rate limit reached for requests. Please try again in " + retryAfter + "s."}
}

// QuotaExceeded is OpenAI's 429 insufficient_quota (must not be retried).
func QuotaExceeded() Response {
	return Response{Status: 429, ErrorType: "insufficient_quota", ErrorCode: "insufficient_quota",
		ErrorMessage: "You exceeded your current quota, please check your plan and billing details."}
}

// ServerError is a 5xx.
func ServerError(status int) Response {
	return Response{Status: status, ErrorType: "server_error",
		ErrorMessage: "The server had an error while processing your request. Sorry about that!"}
}

// ContextLengthExceeded is the 400 sent for prompts over the model's window.
func ContextLengthExceeded() Response {
	return Response{Status: 400, ErrorType: "invalid_request_error", ErrorCode: "context_length_exceeded",
		ErrorMessage: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages."}
}

// InvalidAPIKey is a 401.
func InvalidAPIKey() Response {
	return Response{Status: 401, ErrorType: "invalid_request_error", ErrorCode: "invalid_api_key",
		ErrorMessage: "Incorrect API key provided."}
}

// Sim is the simulator. The zero value is not usable: call New.
type Sim struct {
	// APIKey, when set, is required as "Authorization: Bearer <key>".
	APIKey string
	// Model is reported in responses when the request names none.
	Model string

	mu       sync.Mutex
	queue    []Response
	handler  func(*Request) Response
	requests []*Request
	seq      int
}

// New returns a simulator answering with h once the queue is empty
// (nil → an error response saying nothing was scripted).
func New(h func(*Request) Response) *Sim {
	return &Sim{handler: h, Model: "gpt-4o-mini"}
}

// Enqueue adds scripted responses, used in order before the handler.
func (s *Sim) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// SetHandler replaces the handler.
func (s *Sim) SetHandler(h func(*Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// Requests returns every chat completion request received so far.
func (s *Sim) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Request(nil), s.requests...)
}

// Pending is the number of queued responses not used yet.
func (s *Sim) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Start serves s on a loopback port until the test ends and returns the
// base URL to use as OPENAI_BASE_URL (".../v1").
func Start(t testing.TB, s *Sim) string {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// Listen serves s on addr (e.g. "127.0.0.1:0") and returns the server and
// its base URL (".../v1"); close the server to stop.
func (s *Sim) Listen(addr string) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("openaisim: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String() + "/v1", nil
}

// ServeHTTP implements the API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/models" || r.URL.Path == "/models":
		writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{"id": s.Model, "object": "model", "owned_by": "openaisim"}}})
		return
	case r.URL.Path != "/v1/chat/completions" && r.URL.Path != "/chat/completions":
		writeError(w, Response{Status: 404, ErrorType: "invalid_request_error", ErrorCode: "unknown_url",
			ErrorMessage: fmt.Sprintf("Unknown request URL: %s %s.", r.Method, r.URL.Path)})
		return
	case r.Method != http.MethodPost:
		writeError(w, Response{Status: 405, ErrorType: "invalid_request_error", ErrorMessage: "Use POST."})
		return
	}
	if s.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+s.APIKey {
		writeError(w, InvalidAPIKey())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		writeError(w, Response{Status: 400, ErrorType: "invalid_request_error", ErrorMessage: "could not read body"})
		return
	}
	req := &Request{}
	if err := json.Unmarshal(body, req); err != nil {
		writeError(w, Response{Status: 400, ErrorType: "invalid_request_error",
			ErrorMessage: "We could not parse the JSON body of your request: " + err.Error()})
		return
	}
	req.Raw, req.Header, req.Path = body, r.Header.Clone(), r.URL.Path
	if len(req.Messages) == 0 {
		writeError(w, Response{Status: 400, ErrorType: "invalid_request_error", ErrorCode: "missing_messages",
			ErrorMessage: "'messages' is a required property"})
		return
	}
	if err := checkToolHistory(req.Messages); err != nil {
		writeError(w, Response{Status: 400, ErrorType: "invalid_request_error", ErrorMessage: err.Error()})
		return
	}

	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.seq++
	id := fmt.Sprintf("chatcmpl-sim%06d", s.seq)
	var resp Response
	switch {
	case len(s.queue) > 0:
		resp = s.queue[0]
		s.queue = s.queue[1:]
	case s.handler != nil:
		h := s.handler
		s.mu.Unlock()
		resp = h(req)
		s.mu.Lock()
	default:
		resp = Response{Status: 500, ErrorType: "server_error", ErrorMessage: "openaisim: no scripted response left"}
	}
	s.mu.Unlock()

	if resp.Delay > 0 {
		select {
		case <-time.After(resp.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if resp.Status >= 400 {
		writeError(w, resp)
		return
	}
	model := req.Model
	if model == "" {
		model = s.Model
	}
	for i := range resp.ToolCalls {
		if resp.ToolCalls[i].ID == "" {
			resp.ToolCalls[i].ID = fmt.Sprintf("call_%s_%d", id[len(id)-6:], i)
		}
		if resp.ToolCalls[i].Type == "" {
			resp.ToolCalls[i].Type = "function"
		}
	}
	if resp.FinishReason == "" {
		resp.FinishReason = "stop"
		if len(resp.ToolCalls) > 0 {
			resp.FinishReason = "tool_calls"
		}
	}
	usage := resp.Usage
	if usage == nil {
		usage = estimateUsage(req, resp)
	}
	if req.Stream {
		s.stream(w, r, req, id, model, resp, usage)
		return
	}
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	if resp.Content != "" || len(resp.ToolCalls) == 0 {
		msg["content"] = resp.Content
	}
	if len(resp.ToolCalls) > 0 {
		msg["tool_calls"] = resp.ToolCalls
	}
	writeJSON(w, 200, map[string]any{
		"id": id, "object": "chat.completion", "created": time.Now().Unix(), "model": model,
		"system_fingerprint": "fp_openaisim",
		"choices":            []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": resp.FinishReason}},
		"usage":              usage,
	})
}

// checkToolHistory enforces what the real API does: every assistant
// tool_calls message is followed by one tool message per call id.
func checkToolHistory(msgs []Message) error {
	for i, m := range msgs {
		if m.Role != "assistant" || len(m.ToolCalls) == 0 {
			continue
		}
		want := map[string]bool{}
		for _, c := range m.ToolCalls {
			want[c.ID] = true
		}
		for j := i + 1; j < len(msgs) && msgs[j].Role == "tool"; j++ {
			delete(want, msgs[j].ToolCallID)
		}
		for id := range want {
			// OpenAI's own wording, capitalized as the API sends it.
			return errors.New("An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: " + id)
		}
	}
	return nil
}

func (s *Sim) stream(w http.ResponseWriter, r *http.Request, req *Request, id, model string, resp Response, usage *Usage) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	created := time.Now().Unix()
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		if resp.ChunkDelay > 0 {
			select {
			case <-time.After(resp.ChunkDelay):
			case <-r.Context().Done():
				return false
			}
		}
		return r.Context().Err() == nil
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_openaisim",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}}
		if includeUsage {
			c["usage"] = nil
		}
		return c
	}
	if !send(chunk(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)) {
		return
	}
	size := resp.ChunkSize
	if size <= 0 {
		size = 6
	}
	runes := []rune(resp.Content)
	for i := 0; i < len(runes); i += size {
		end := min(i+size, len(runes))
		if !send(chunk(map[string]any{"content": string(runes[i:end])}, nil)) {
			return
		}
	}
	if resp.StreamError != "" {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": resp.StreamError, "type": "server_error", "param": nil, "code": nil}})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		return
	}
	for i, tc := range resp.ToolCalls {
		first := map[string]any{"index": i, "id": tc.ID, "type": "function",
			"function": map[string]any{"name": tc.Function.Name, "arguments": ""}}
		if !send(chunk(map[string]any{"tool_calls": []any{first}}, nil)) {
			return
		}
		args := []rune(tc.Function.Arguments)
		for j := 0; j < len(args); j += 12 {
			end := min(j+12, len(args))
			frag := map[string]any{"index": i, "function": map[string]any{"arguments": string(args[j:end])}}
			if !send(chunk(map[string]any{"tool_calls": []any{frag}}, nil)) {
				return
			}
		}
	}
	if !send(chunk(map[string]any{}, resp.FinishReason)) {
		return
	}
	if includeUsage {
		if !send(map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_openaisim", "choices": []any{}, "usage": usage}) {
			return
		}
	}
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

func estimateUsage(req *Request, resp Response) *Usage {
	prompt := 0
	for _, m := range req.Messages {
		prompt += len(m.Text())/4 + 4
		for _, c := range m.ToolCalls {
			prompt += len(c.Function.Arguments)/4 + 4
		}
	}
	for _, t := range req.Tools {
		prompt += (len(t.Function.Parameters) + len(t.Function.Description)) / 4
	}
	completion := len(resp.Content) / 4
	for _, c := range resp.ToolCalls {
		completion += len(c.Function.Arguments)/4 + 4
	}
	completion = max(completion, 1)
	return &Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

func writeError(w http.ResponseWriter, r Response) {
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	var code any
	if r.ErrorCode != "" {
		code = r.ErrorCode
	}
	typ := r.ErrorType
	if typ == "" {
		typ = "server_error"
	}
	writeJSON(w, r.Status, map[string]any{"error": map[string]any{"message": r.ErrorMessage, "type": typ, "param": nil, "code": code}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
