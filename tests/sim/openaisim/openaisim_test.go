package openaisim

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestStreamedToolCallsAndUsage(t *testing.T) {
	s := New(nil)
	s.Enqueue(Calls(NewCall("odoo_count", map[string]any{"model": "sale.order"}), NewCall("odoo_fields", `{"model":"crm.lead"}`)))
	url := Start(t, s)
	resp := post(t, url, `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "data: ") {
			lines = append(lines, strings.TrimPrefix(l, "data: "))
		}
	}
	if lines[len(lines)-1] != "[DONE]" {
		t.Fatalf("no [DONE]: %v", lines)
	}
	args := map[int]string{}
	names := map[int]string{}
	var usage map[string]any
	var finish string
	for _, l := range lines[:len(lines)-1] {
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []ToolCall `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if c.Usage != nil {
			usage = c.Usage
		}
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Function.Name != "" {
					names[*tc.Index] = tc.Function.Name
				}
				args[*tc.Index] += tc.Function.Arguments
			}
		}
	}
	if names[0] != "odoo_count" || args[0] != `{"model":"sale.order"}` || names[1] != "odoo_fields" || args[1] != `{"model":"crm.lead"}` {
		t.Fatalf("names %v args %v", names, args)
	}
	if finish != "tool_calls" || usage["total_tokens"] == nil {
		t.Fatalf("finish %q usage %v", finish, usage)
	}
}

func TestErrorsInOpenAIShape(t *testing.T) {
	s := New(nil)
	s.Enqueue(RateLimited("2"), QuotaExceeded())
	url := Start(t, s)
	for _, want := range []struct {
		status     int
		code       string
		retryAfter string
	}{{429, "rate_limit_exceeded", "2"}, {429, "insufficient_quota", ""}, {500, "", ""}} {
		resp := post(t, url, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		var body struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		code, _ := body.Error.Code.(string)
		if resp.StatusCode != want.status || code != want.code || resp.Header.Get("Retry-After") != want.retryAfter || body.Error.Message == "" {
			t.Fatalf("got %d %q %q %+v", resp.StatusCode, code, resp.Header.Get("Retry-After"), body)
		}
	}
	// A tool call without its tool result is rejected like the real API does.
	resp := post(t, url, `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"x","arguments":"{}"}}]}]}`)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := len(s.Requests()); n != 3 {
		t.Fatalf("%d requests recorded", n)
	}
}

func TestRulesAnswerFromToolResults(t *testing.T) {
	req := &Request{Messages: []Message{
		{Role: "user", Content: json.RawMessage(`"How many Desk Combination in stock?"`)},
	}}
	r := rules(req)
	if len(r.ToolCalls) != 1 || !strings.Contains(r.ToolCalls[0].Function.Arguments, `"product.product"`) ||
		!strings.Contains(r.ToolCalls[0].Function.Arguments, `"Desk Combination"`) {
		t.Fatalf("call = %+v", r)
	}
	r.ToolCalls[0].ID = "c1"
	req.Messages = append(req.Messages,
		Message{Role: "assistant", ToolCalls: r.ToolCalls},
		Message{Role: "tool", ToolCallID: "c1", Content: mustJSON(`{"model":"product.product","count":1,"records":[{"id":9,"name":"Desk Combination","qty_available":37,"uom_id":[1,"Units"]}]}`)})
	if got := rules(req).Content; !strings.Contains(got, "In stock: 37") || !strings.Contains(got, "Desk Combination") {
		t.Fatalf("answer = %q", got)
	}
	unpaid := rules(&Request{Messages: []Message{{Role: "user", Content: json.RawMessage(`"Unpaid invoices for Azure Interior?"`)}}})
	if len(unpaid.ToolCalls) != 1 || !strings.Contains(unpaid.ToolCalls[0].Function.Arguments, `["partner_id.name","ilike","Azure Interior"]`) {
		t.Fatalf("unpaid = %+v", unpaid)
	}
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func TestRulesFollowUpFromHistory(t *testing.T) {
	history := []Message{
		{Role: "user", Content: mustJSON("What is the status of S00042?")},
		{Role: "assistant", Content: mustJSON("• *<http://odoo/x|S00042>* — Customer: Azure Interior, Status: sale, Total: 1,587.00")},
	}
	ask := func(q string) string {
		msgs := append(append([]Message(nil), history...), Message{Role: "user", Content: mustJSON(q)})
		r := rules(&Request{Messages: msgs})
		if len(r.ToolCalls) > 0 {
			t.Fatalf("%q: a follow-up is answered from memory, not with tools: %+v", q, r.ToolCalls)
		}
		return r.Content
	}
	if got := ask("who is the customer and how much is it?"); got != "The customer is *Azure Interior* and the total is *1,587.00*." {
		t.Fatalf("answer = %q", got)
	}
	if got := ask("and who is the customer?"); got != "The customer is *Azure Interior*." {
		t.Fatalf("answer = %q", got)
	}
}

// Maria's ERP service sends many2one fields as {"id", "name"} (schemas
// README, ERP): the answer names the record, and a follow-up finds it.
func TestRulesMany2OneAsObject(t *testing.T) {
	c1 := NewCall("odoo_search_read", map[string]any{"model": "sale.order", "domain": []any{[]any{"name", "=", "S00042"}}})
	c1.ID = "c1"
	req := &Request{Messages: []Message{
		{Role: "user", Content: mustJSON("What is the status of S00042?")},
		{Role: "assistant", ToolCalls: []ToolCall{c1}},
		{Role: "tool", ToolCallID: "c1", Content: mustJSON(`{"records":[{"id":42,"name":"S00042","partner_id":{"id":10,"name":"Azure Interior"},"amount_total":1587}]}`)},
	}}
	got := rules(req).Content
	if !strings.Contains(got, "Customer: Azure Interior,") || strings.Contains(got, `"id"`) {
		t.Fatalf("answer = %q", got)
	}
	follow := &Request{Messages: []Message{req.Messages[0], {Role: "assistant", Content: mustJSON(got)}, {Role: "user", Content: mustJSON("who is the customer?")}}}
	if who := rules(follow).Content; who != "The customer is *Azure Interior*." {
		t.Fatalf("follow-up = %q", who)
	}
}
