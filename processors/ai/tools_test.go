package ai

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

func TestToolDefinitionsNamesAndSchemas(t *testing.T) {
	var names []string
	for _, tool := range ToolDefinitions() {
		names = append(names, tool.Function.Name)
		raw, _ := json.Marshal(tool.Function.Parameters)
		var schema any
		_ = json.Unmarshal(raw, &schema)
		checkArraysHaveItems(t, tool.Function.Name, schema)
	}
	want := []string{"odoo_search_read", "odoo_count", "odoo_fields", "odoo_create", "odoo_write", "erp_aggregate", "odoo_action"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("tools = %v", names)
	}
	props := func(i int) []string {
		var keys []string
		for k := range ToolDefinitions()[i].Function.Parameters.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		return keys
	}
	if got := strings.Join(sortStrings(props(0)), ","); got != "company,domain,fields,limit,model,order" {
		t.Fatalf("odoo_search_read params = %s", got)
	}
	if got := strings.Join(sortStrings(props(4)), ","); got != "ids,model,values" {
		t.Fatalf("odoo_write params = %s", got)
	}
}

func sortStrings(s []string) []string { sort.Strings(s); return s }

// OpenAI rejects function schemas with an array lacking "items".
func checkArraysHaveItems(t *testing.T, path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		isArray := x["type"] == "array"
		if list, ok := x["type"].([]any); ok {
			for _, ty := range list {
				isArray = isArray || ty == "array"
			}
		}
		if _, ok := x["items"]; isArray && !ok {
			t.Errorf("%s: array schema without items: %v", path, x)
		}
		for k, c := range x {
			checkArraysHaveItems(t, path+"."+k, c)
		}
	case []any:
		for _, c := range x {
			checkArraysHaveItems(t, path+"[]", c)
		}
	}
}

func TestToolRunnerValidatesAndReportsUnavailableERP(t *testing.T) {
	b := bustest.New(t) // no responder on maria.erp.query
	r := newToolRunner(&NATSQuerier{NC: b.Conn(), Timeout: time.Second}, nil, "U1")
	r.access = erpAccess{read: true, write: true}
	call := func(name, args string) toolOutcome {
		out, err := r.Run(context.Background(), openai.ToolCall{ID: "c", Function: openai.FunctionCall{Name: name, Arguments: args}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := call(ToolSearchRead, `{"model":"sale.order; drop"}`); !strings.Contains(out.Content, "invalid model name") {
		t.Fatalf("got %s", out.Content)
	}
	if out := call(ToolSearchRead, `{"model":"sale.order","fields":["name)"]}`); !strings.Contains(out.Content, "invalid field name") {
		t.Fatalf("got %s", out.Content)
	}
	if out := call("odoo_unlink", `{"model":"sale.order"}`); !strings.Contains(out.Content, "unknown tool") {
		t.Fatalf("got %s", out.Content)
	}
	if out := call(ToolCreate, `{"model":"crm.lead","values":{}}`); !strings.Contains(out.Content, "values must name") {
		t.Fatalf("got %s", out.Content)
	}
	out := call(ToolCount, `{"model":"sale.order","domain":[["state","=","sale"]]}`)
	var got schemas.ERPReply
	_ = json.Unmarshal([]byte(out.Content), &got)
	if got.Kind != "unavailable" || !strings.Contains(out.Note, "failed (unavailable)") {
		t.Fatalf("got %s / %s", out.Content, out.Note)
	}
}

func TestSummarizeRecordForMemory(t *testing.T) {
	s := summarizeRecord(map[string]any{"id": 42.0, "name": "S00042", "partner_id": []any{7.0, "Azure Interior"}, "amount_total": 1799.5, "note": false}, "S00042")
	if s != "S00042 [id 42] (amount_total: 1799.50, partner_id: Azure Interior)" {
		t.Fatalf("got %q", s)
	}
}
