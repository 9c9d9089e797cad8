package openaisim

import (
	"encoding/json"
	"strings"
	"testing"
)

func userAsks(q string) *Request {
	content, _ := json.Marshal(q)
	return &Request{Messages: []Message{{Role: "system", Content: json.RawMessage(`"You are Maria."`)}, {Role: "user", Content: content}}}
}

// withResult is req after the model's call and the tool's answer.
func withResult(req *Request, call Response, result string) *Request {
	content, _ := json.Marshal(result)
	call.ToolCalls[0].ID = "call_1"
	out := *req
	out.Messages = append(append([]Message{}, req.Messages...),
		Message{Role: "assistant", ToolCalls: call.ToolCalls},
		Message{Role: "tool", ToolCallID: "call_1", Content: content})
	return &out
}

// Each common question becomes the ERP read a model would make.
func TestIntentsCallTheERP(t *testing.T) {
	for _, tt := range []struct {
		question, model string
		argsHave        []string
	}{
		{"What is the status of S00042?", "sale.order", []string{`["name","=","S00042"]`}},
		{"Who are our top customers?", "account.move", []string{`["move_type","=","out_invoice"]`, `["state","=","posted"]`}},
		{"top 3 clients", "account.move", []string{`"amount_total"`}},
		{"Which invoices are unpaid?", "account.move", []string{`["payment_state","in",["not_paid","partial"]]`}},
		{"unpaid invoices for Azure Interior", "account.move", []string{`["partner_id.name","ilike","Azure Interior"]`}},
		{"who still owes us money?", "account.move", []string{`"amount_residual"`}},
		{"How many Office Chair do we have in stock?", "product.product", []string{`["name","ilike","Office Chair"]`}},
		{"stock of Large Desk?", "product.product", []string{`["name","ilike","Large Desk"]`}},
		{"do we have any Office Lamp in stock", "product.product", []string{`["name","ilike","Office Lamp"]`}},
		{"What stage is the Office Design Project lead in?", "crm.lead", []string{`["name","ilike","Office Design Project"]`, `"stage_id"`}},
		{"status of the opportunity Quote for 150 carpets", "crm.lead", []string{`["name","ilike","Quote for 150 carpets"]`}},
	} {
		t.Run(tt.question, func(t *testing.T) {
			resp := rules(userAsks(tt.question))
			if len(resp.ToolCalls) != 1 || resp.ToolCalls[0].Function.Name != "odoo_search_read" {
				t.Fatalf("want one odoo_search_read, got %+v", resp)
			}
			args := resp.ToolCalls[0].Function.Arguments
			if !strings.Contains(args, `"model":"`+tt.model+`"`) {
				t.Errorf("model: %s", args)
			}
			for _, want := range tt.argsHave {
				if !strings.Contains(args, want) {
					t.Errorf("arguments lack %s: %s", want, args)
				}
			}
		})
	}
}

// The answers are computed from what the tools returned.
func TestIntentsAnswerFromResults(t *testing.T) {
	invoices := `{"records":[{"id":1,"name":"INV/1","partner_id":{"id":10,"name":"Azure Interior"},"amount_total":100.5},` +
		`{"id":2,"name":"INV/2","partner_id":{"id":11,"name":"Deco Addict"},"amount_total":3000},` +
		`{"id":3,"name":"INV/3","partner_id":[10,"Azure Interior"],"amount_total":2000}]}`
	for _, tt := range []struct {
		question, result string
		want             []string
	}{
		{"Who are our top customers?", invoices, []string{"1. *Deco Addict* — 3,000.00 (1 invoice)", "2. *Azure Interior* — 2,100.50 (2 invoices)"}},
		{"top 1 customer", invoices, []string{"1. *Deco Addict*"}},
		{"What stage is the Office Design Project lead in?",
			`{"records":[{"id":1,"name":"Office Design Project","stage_id":{"id":2,"name":"Qualified"},"probability":30,"expected_revenue":24000}]}`,
			[]string{"*Office Design Project*", "Stage: Qualified", "Probability %: 30", "Expected revenue: 24,000.00"}},
		{"Who are our top customers?", `{"error":"model not allowed"}`, []string{"couldn't read the invoices", "model not allowed"}},
	} {
		t.Run(tt.question, func(t *testing.T) {
			req := userAsks(tt.question)
			got := rules(withResult(req, rules(req), tt.result))
			for _, want := range tt.want {
				if !strings.Contains(got.Content, want) {
					t.Errorf("answer lacks %q:\n%s", want, got.Content)
				}
			}
			if tt.question == "top 1 customer" && strings.Contains(got.Content, "Azure") {
				t.Errorf("asked for one customer:\n%s", got.Content)
			}
		})
	}
}

// Anything else: what the model can answer, as examples to copy.
func TestOffScriptSaysWhatItCanAnswer(t *testing.T) {
	got := rules(userAsks("What's the weather like?"))
	if len(got.ToolCalls) != 0 {
		t.Fatalf("no ERP call for an off-script question: %+v", got.ToolCalls)
	}
	for _, want := range []string{"S00042", "top customers", "unpaid", "in stock", "stage", "create a lead"} {
		if !strings.Contains(got.Content, want) {
			t.Errorf("the reply lacks the example %q:\n%s", want, got.Content)
		}
	}
}
