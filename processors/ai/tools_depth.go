package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// Tools beyond plain reads and writes (issue 21): grouped reads and
// business actions.
const (
	ToolAggregate = "erp_aggregate"
	ToolAction    = "odoo_action"
)

var companySchema = map[string]any{"type": "string", "description": "Only if the user names a company: its name (or a unique part of it). Leave out to use every company the user works in."}

var methodName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// depthTools are the definitions of the grouped-read and action tools.
func depthTools(fn func(name, desc string, props map[string]any, required ...string) openai.Tool) []openai.Tool {
	return []openai.Tool{
		fn(ToolAggregate, `Totals, counts and averages grouped by fields, computed by Odoo (e.g. "sales per customer this quarter", "invoices per month"). Use instead of reading many records to add them up.`,
			map[string]any{
				"model":   modelSchema,
				"domain":  domainSchema,
				"groupby": map[string]any{"type": "array", "minItems": 1, "maxItems": 3, "items": map[string]any{"type": "string"}, "description": `Fields to group by; dates take a granularity: "date_order:month" (day, week, month, quarter, year). E.g. ["partner_id"].`},
				"measures": map[string]any{"type": "array", "maxItems": 6, "items": map[string]any{"type": "string"},
					"description": `Numeric fields with sum, avg, min, max or count: ["amount_total:sum"]. The count of records per group is always given.`},
				"order":   map[string]any{"type": "string", "description": `E.g. "amount_total:sum desc" (one of the measures or groupby fields).`},
				"limit":   map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit, "description": "Maximum groups (default 20)."},
				"company": companySchema,
			}, "model", "groupby"),
		fn(ToolAction, "PROPOSE a business action on Odoo records (confirm a quotation: sale.order action_confirm; post an invoice: account.move action_post; mark a lead won: crm.lead action_set_won). Nothing runs: the user gets Confirm/Cancel buttons and only their click executes it.",
			map[string]any{"model": modelSchema,
				"ids":    map[string]any{"type": "array", "items": map[string]any{"type": "integer"}, "description": "Ids of the records to act on."},
				"action": map[string]any{"type": "string", "description": "The method, e.g. action_confirm."}},
			"model", "ids", "action"),
	}
}

// aggregate runs an erp_aggregate call.
func (r *toolRunner) aggregate(ctx context.Context, a toolArgs) (toolOutcome, error) {
	for _, g := range append(append([]string(nil), a.GroupBy...), a.Measures...) {
		name, _, _ := strings.Cut(g, ":")
		if !fieldName.MatchString(name) || strings.Contains(name, ".") {
			metricToolCalls.WithLabelValues(ToolAggregate, "invalid").Inc()
			return errOutcome(ToolAggregate, a.Model, fmt.Sprintf("invalid field %q", g)), nil
		}
	}
	return r.read(ctx, ToolAggregate, schemas.ERPQuery{Method: "read_group", Model: a.Model, Domain: a.Domain,
		GroupBy: a.GroupBy, Aggregates: a.Measures, Order: a.Order, Limit: clampLimit(a.Limit), Company: a.Company})
}

// renderGroups shows a grouped read as a compact aligned table (for a Slack
// code block) with the rows as data, and notes the companies.
func renderGroups(tool string, q schemas.ERPQuery, reply *schemas.ERPReply) toolOutcome {
	cols := append(append([]string(nil), q.GroupBy...), q.Aggregates...)
	if len(q.Aggregates) == 0 {
		cols = append(cols, "__count")
	}
	rows := make([][]string, 0, len(reply.Groups)+1)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = strings.TrimSuffix(strings.ReplaceAll(c, "__count", "count"), ":sum")
	}
	rows = append(rows, head)
	for _, g := range reply.Groups {
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = truncate(groupCell(g[c]), 40)
		}
		rows = append(rows, row)
	}
	table := alignTable(rows, len(q.GroupBy))
	out := map[string]any{"model": q.Model, "groups": len(reply.Groups), "table": table,
		"how_to_answer": "Show the table to the user verbatim inside a ``` code block, then comment on it briefly."}
	if len(reply.Companies) > 0 {
		out["companies"] = reply.Companies
		out["how_to_answer"] = out["how_to_answer"].(string) + " Say which companies the figures are from: " + strings.Join(reply.Companies, ", ") + "."
	}
	content, _ := json.Marshal(out)
	note := fmt.Sprintf("%s %s by %s → %d group(s)", tool, q.Model, strings.Join(q.GroupBy, ", "), len(reply.Groups))
	if len(reply.Groups) > 0 {
		note += ":\n" + table
	}
	return toolOutcome{Content: truncate(string(content), maxToolResultChars), Model: q.Model, Note: truncate(note, maxNoteChars)}
}

func groupCell(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if n, ok := x["name"].(string); ok {
			return n
		}
	case bool:
		if !x {
			return "(none)"
		}
	case float64:
		return fmt.Sprintf("%.2f", x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return fmt.Sprint(i)
		}
		if f, err := x.Float64(); err == nil {
			return fmt.Sprintf("%.2f", f)
		}
	}
	return plainValue(v)
}

// alignTable pads columns: the first keys left-aligned, figures right.
func alignTable(rows [][]string, keys int) string {
	if len(rows) == 0 {
		return ""
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < keys {
				b.WriteString(c + pad)
			} else {
				b.WriteString(pad + c)
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// actionProposal turns an odoo_action call into a proposal.
func (r *toolRunner) actionProposal(ctx context.Context, callID string, a toolArgs) (toolOutcome, error) {
	if !methodName.MatchString(a.Action) {
		metricToolCalls.WithLabelValues(ToolAction, "invalid").Inc()
		return errOutcome(ToolAction, a.Model, fmt.Sprintf("invalid action %q: a public method name such as action_confirm", a.Action)), nil
	}
	if len(a.IDs) == 0 {
		metricToolCalls.WithLabelValues(ToolAction, "invalid").Inc()
		return errOutcome(ToolAction, a.Model, "ids must list the records to act on"), nil
	}
	cmd := schemas.ERPCommand{Op: "action", Model: a.Model, IDs: a.IDs, Method: a.Action}
	return r.submit(ctx, callID, ToolAction, cmd)
}

// withCompanies tells the model which companies a result is from when the
// user works in several, so the answer can say so.
func withCompanies(out map[string]any, reply *schemas.ERPReply) {
	if len(reply.Companies) > 0 {
		out["companies"] = reply.Companies
		out["note"] = "The user works in several companies: say which the data is from (" + strings.Join(reply.Companies, ", ") + ")."
	}
}
