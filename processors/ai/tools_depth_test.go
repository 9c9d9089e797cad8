package ai

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// querierFunc answers ERP queries in tests.
type querierFunc func(schemas.ERPQuery) *schemas.ERPReply

func (f querierFunc) Query(_ context.Context, q schemas.ERPQuery) (*schemas.ERPReply, error) {
	return f(q), nil
}

func TestAggregateRendersATableAndNamesCompanies(t *testing.T) {
	var asked schemas.ERPQuery
	erp := querierFunc(func(q schemas.ERPQuery) *schemas.ERPReply {
		asked = q
		return &schemas.ERPReply{Companies: []string{"YourCompany", "My Company (Chicago)"}, Groups: []map[string]any{
			{"partner_id": map[string]any{"id": json.Number("10"), "name": "Azure Interior"}, "amount_total:sum": 3655.85, "__count": json.Number("2")},
			{"partner_id": map[string]any{"id": json.Number("12"), "name": "Gemini Furniture"}, "amount_total:sum": 643.5, "__count": json.Number("1")},
		}}
	})
	r := newToolRunner(erp, nil, "U1")
	r.access = erpAccess{read: true}
	out, err := r.Run(context.Background(), openai.ToolCall{ID: "c", Function: openai.FunctionCall{Name: ToolAggregate,
		Arguments: `{"model":"sale.order","groupby":["partner_id"],"measures":["amount_total:sum"],"order":"amount_total:sum desc","company":"chicago"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if asked.Method != "read_group" || asked.Company != "chicago" || asked.GroupBy[0] != "partner_id" || asked.Aggregates[0] != "amount_total:sum" {
		t.Fatalf("query sent: %+v", asked)
	}
	var content struct {
		Table     string   `json:"table"`
		Companies []string `json:"companies"`
		How       string   `json:"how_to_answer"`
	}
	if err := json.Unmarshal([]byte(out.Content), &content); err != nil {
		t.Fatal(err)
	}
	want := "partner_id        amount_total\n" +
		"Azure Interior         3655.85\n" +
		"Gemini Furniture        643.50"
	if content.Table != want {
		t.Fatalf("table:\n%s\nwant:\n%s", content.Table, want)
	}
	if len(content.Companies) != 2 || !strings.Contains(content.How, "My Company (Chicago)") {
		t.Fatalf("companies not passed on: %s", out.Content)
	}
}

func TestActionToolProposesAndIsAWriteTool(t *testing.T) {
	erp := querierFunc(func(q schemas.ERPQuery) *schemas.ERPReply {
		return &schemas.ERPReply{Records: []map[string]any{{"id": json.Number("43"), "display_name": "S00043"}}}
	})
	var proposed schemas.ERPCommand
	propose := func(_ context.Context, _ string, cmd schemas.ERPCommand, _ ProposalNames) (string, error) {
		proposed = cmd
		return "p1", nil
	}
	r := newToolRunner(erp, propose, "U1")
	r.access = erpAccess{read: true, write: true}
	out, err := r.Run(context.Background(), openai.ToolCall{ID: "c", Function: openai.FunctionCall{Name: ToolAction,
		Arguments: `{"model":"sale.order","ids":[43],"action":"action_confirm"}`}})
	if err != nil {
		t.Fatal(err)
	}
	if proposed.Op != "action" || proposed.Method != "action_confirm" || len(proposed.IDs) != 1 || !strings.Contains(out.Content, "proposal_posted") {
		t.Fatalf("proposed %+v: %s", proposed, out.Content)
	}
	if d := Describe(&Proposal{Proposal: schemas.Proposal{Command: proposed, RecordNames: map[string]string{"43": "S00043"}}}); d != "run `action_confirm` on `sale.order` #43 “S00043”" {
		t.Fatalf("Describe: %s", d)
	}
	if !isWriteTool(ToolAction) {
		t.Fatal("an action needs write access")
	}
	bad, _ := r.Run(context.Background(), openai.ToolCall{ID: "c", Function: openai.FunctionCall{Name: ToolAction,
		Arguments: `{"model":"sale.order","ids":[43],"action":"_private"}`}})
	if !strings.Contains(bad.Content, "invalid action") {
		t.Fatalf("private method: %s", bad.Content)
	}
}

func TestRecordLinksFollowTheVersion(t *testing.T) {
	for major, want := range map[int]string{
		17: "https://odoo.example/web#id=42&model=sale.order&view_type=form",
		18: "https://odoo.example/odoo/sale.order/42",
		19: "https://odoo.example/odoo/sale.order/42",
	} {
		erp := querierFunc(func(q schemas.ERPQuery) *schemas.ERPReply {
			return &schemas.ERPReply{BaseURL: "https://odoo.example", OdooMajor: major, Records: []map[string]any{{"id": json.Number("42"), "name": "S00042"}}}
		})
		r := newToolRunner(erp, nil, "U1")
		r.access = erpAccess{read: true}
		if _, err := r.Run(context.Background(), openai.ToolCall{ID: "c", Function: openai.FunctionCall{Name: ToolSearchRead, Arguments: `{"model":"sale.order"}`}}); err != nil {
			t.Fatal(err)
		}
		if l := r.Links(); len(l) != 1 || l[0].URL != want {
			t.Fatalf("Odoo %d: links %+v, want %s", major, l, want)
		}
	}
}
