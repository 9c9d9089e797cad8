package openaisim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Rules is a small deterministic brain for offline demos and end-to-end
// tests. It understands a handful of questions, calls Maria's ERP tools the
// way a model would, and writes its final answer only from what the tools
// returned (never from hard-coded figures):
//
//   - an order reference such as S00042 (several → parallel calls) →
//     odoo_search_read on sale.order with [["name","=","S00042"]];
//   - "unpaid invoices for X" → odoo_search_read on account.move;
//   - "how many X in stock" → odoo_search_read on product.product (qty_available);
//   - "how many <model words>" → odoo_count;
//   - "create a lead for Acme, 5k, for Mitchell" → odoo_search_read on
//     res.users for the salesperson, then odoo_create on crm.lead;
//   - top customers, open invoices, stock of a product, a lead's stage
//     (intents.go);
//   - a question with shared files (files.go) → their first lines and
//     totals, and the images it was shown;
//   - "who is the customer?" and similar follow-ups (also "… and how much
//     is it?") → answered from the earlier turns in the request (no tool call).
//
// Anything else gets the list of what it can answer, as examples.
func Rules() func(*Request) Response {
	return rules
}

var (
	reOrder   = regexp.MustCompile(`\b([SP]\d{4,6})\b`)
	reUnpaid  = regexp.MustCompile(`(?i)unpaid invoices?(?: (?:for|of|from)\s+(.+?))?\s*\??$`)
	reStock   = regexp.MustCompile(`(?i)how (?:many|much)\s+(.+?)\s+(?:do we have\s+|are\s+|is\s+)?(?:in|on) (?:stock|hand)`)
	reLead    = regexp.MustCompile(`(?i)create (?:a |an |new )*(?:lead|opportunity) for\s+([^,]+?)(?:,\s*\$?([\d.,]+)\s*([km])?)?(?:,?\s*(?:for|assigned to|owned by)\s+([\p{L} .'-]+?))?\s*[.!]?$`)
	reWho     = regexp.MustCompile(`(?i)\b(who is|who's|which) (?:the )?(customer|client|partner)\b|\bcustomer\?`)
	rePartner = regexp.MustCompile(`(?:partner_id: |[Cc]ustomer:?\*? )([^,;()\n*]+)`)
	reHowMuch = regexp.MustCompile(`(?i)\bhow much\b|\b(?:the )?(?:total|amount)\b`)
	reTotal   = regexp.MustCompile(`(?:amount_total: |Total:?\*? )\*?([\d,]+(?:\.\d+)?)`)
)

func rules(req *Request) Response {
	lastUser := -1
	for i, m := range req.Messages {
		if m.Role == "user" {
			lastUser = i
		}
	}
	if lastUser < 0 {
		return Text("Hello! Ask me about orders, invoices, stock or leads in Odoo.")
	}
	question := strings.TrimSpace(req.Messages[lastUser].Text())
	if files, images := FilesIn(question), req.Messages[lastUser].Images(); len(files) > 0 || len(images) > 0 {
		return Text(answerFiles(files, images))
	}
	results := toolResults(req.Messages[lastUser+1:])

	if m := reLead.FindStringSubmatch(question); m != nil {
		return leadFlow(m, results)
	}
	if len(results) > 0 {
		if m := reTopCustomers.FindStringSubmatch(question); m != nil {
			return Text(topCustomers(results, topN(m)))
		}
		return Text(answerFrom(results))
	}
	if refs := reOrder.FindAllString(question, -1); len(refs) > 0 {
		var calls []ToolCall
		seen := map[string]bool{}
		for _, ref := range refs {
			if seen[ref] {
				continue
			}
			seen[ref] = true
			calls = append(calls, NewCall("odoo_search_read", map[string]any{
				"model":  "sale.order",
				"domain": []any{[]any{"name", "=", ref}},
				"fields": []string{"name", "partner_id", "state", "amount_total", "date_order", "invoice_status"},
				"limit":  5,
			}))
		}
		return Calls(calls...)
	}
	if m := reTopCustomers.FindStringSubmatch(question); m != nil {
		return topCustomersCall()
	}
	if m := reUnpaid.FindStringSubmatch(question); m != nil {
		return openInvoicesCall(strings.TrimSpace(m[1]))
	}
	if reInvoicesOpen.MatchString(question) {
		return openInvoicesCall("")
	}
	if m := reStock.FindStringSubmatch(question); m != nil {
		return stockCall(strings.TrimSpace(m[1]))
	}
	if m := reStockOf.FindStringSubmatch(question); m != nil {
		return stockCall(firstGroup(m))
	}
	if m := reLeadStage.FindStringSubmatch(question); m != nil {
		return leadStageCall(firstGroup(m))
	}
	if reWho.MatchString(question) {
		who := partnerFromHistory(req.Messages[:lastUser])
		if who == "" {
			return Text("I don't see a customer in our conversation yet — which order or invoice do you mean?")
		}
		if reHowMuch.MatchString(question) {
			if total := totalFromHistory(req.Messages[:lastUser]); total != "" {
				return Text(fmt.Sprintf("The customer is *%s* and the total is *%s*.", who, total))
			}
		}
		return Text(fmt.Sprintf("The customer is *%s*.", who))
	}
	return Text(capabilities)
}

// toolResult is one executed call as seen in the request.
type toolResult struct {
	Name    string
	Args    map[string]any
	Content map[string]any
}

func toolResults(msgs []Message) []toolResult {
	calls := map[string]ToolCall{}
	var out []toolResult
	for _, m := range msgs {
		switch m.Role {
		case "assistant":
			for _, c := range m.ToolCalls {
				calls[c.ID] = c
			}
		case "tool":
			c := calls[m.ToolCallID]
			r := toolResult{Name: c.Function.Name, Args: map[string]any{}, Content: map[string]any{}}
			_ = json.Unmarshal([]byte(c.Function.Arguments), &r.Args)
			if err := json.Unmarshal([]byte(m.Text()), &r.Content); err != nil {
				r.Content = map[string]any{"error": "unreadable tool result"}
			}
			out = append(out, r)
		}
	}
	return out
}

func leadFlow(m []string, results []toolResult) Response {
	name := strings.TrimSpace(m[1])
	var users, proposals []toolResult
	for _, r := range results {
		switch {
		case r.Name == "odoo_search_read" && r.Args["model"] == "res.users":
			users = append(users, r)
		case r.Name == "odoo_create":
			proposals = append(proposals, r)
		}
	}
	owner := strings.TrimSpace(m[4])
	if owner != "" && len(users) == 0 && len(proposals) == 0 {
		return Call("odoo_search_read", map[string]any{
			"model": "res.users", "domain": []any{[]any{"name", "ilike", owner}},
			"fields": []string{"name"}, "limit": 1,
		})
	}
	if len(proposals) > 0 {
		p := proposals[0].Content
		if e, ok := p["error"].(string); ok {
			return Text("I couldn't prepare that lead: " + e)
		}
		return Text(fmt.Sprintf("I've proposed a new lead *%s* in the CRM. Nothing is created until you click *Confirm* on the proposal.", name))
	}
	values := map[string]any{"name": name}
	if amount := parseAmount(m[2], m[3]); amount > 0 {
		values["expected_revenue"] = amount
	}
	if len(users) > 0 {
		if recs := records(users[0].Content); len(recs) > 0 {
			if id, ok := recs[0]["id"].(float64); ok {
				values["user_id"] = int64(id)
			}
		} else if owner != "" {
			values["description"] = "Salesperson requested: " + owner
		}
	}
	return Call("odoo_create", map[string]any{"model": "crm.lead", "values": values})
}

func parseAmount(num, unit string) float64 {
	num = strings.ReplaceAll(num, ",", "")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	switch strings.ToLower(unit) {
	case "k":
		f *= 1000
	case "m":
		f *= 1_000_000
	}
	return f
}

func records(c map[string]any) []map[string]any {
	raw, _ := c["records"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// fieldLabels names the fields the answer shows, in order.
var fieldLabels = []struct{ field, label string }{
	{"partner_id", "Customer"},
	{"state", "Status"},
	{"payment_state", "Payment"},
	{"invoice_status", "Invoicing"},
	{"date_order", "Ordered"},
	{"invoice_date_due", "Due"},
	{"amount_total", "Total"},
	{"amount_residual", "Amount due"},
	{"default_code", "Reference"},
	{"qty_available", "In stock"},
	{"uom_id", "Unit"},
	{"stage_id", "Stage"},
	{"probability", "Probability %"},
	{"expected_revenue", "Expected revenue"},
	{"user_id", "Salesperson"},
}

func answerFrom(results []toolResult) string {
	var b strings.Builder
	for i, r := range results {
		if i > 0 {
			b.WriteString("\n")
		}
		model, _ := r.Args["model"].(string)
		if e, ok := r.Content["error"].(string); ok {
			fmt.Fprintf(&b, "I couldn't read %s from the ERP: %s", model, e)
			continue
		}
		if n, ok := r.Content["count"].(float64); ok && r.Name == "odoo_count" {
			fmt.Fprintf(&b, "There are %d matching %s records.", int64(n), model)
			continue
		}
		recs := records(r.Content)
		if len(recs) == 0 {
			fmt.Fprintf(&b, "I found no matching %s records.", model)
			continue
		}
		if len(recs) > 1 {
			fmt.Fprintf(&b, "I found %d %s records:\n", len(recs), model)
		}
		for _, rec := range recs {
			b.WriteString(formatRecord(rec))
			b.WriteString("\n")
		}
		if model == "account.move" {
			total := 0.0
			for _, rec := range recs {
				if v, ok := rec["amount_residual"].(float64); ok {
					total += v
				}
			}
			if total > 0 {
				fmt.Fprintf(&b, "Total still due: *%s*\n", money(total))
			}
		}
	}
	return strings.TrimSpace(b.String())
}

func formatRecord(rec map[string]any) string {
	label, _ := rec["display_name"].(string)
	if label == "" {
		label, _ = rec["name"].(string)
	}
	if label == "" {
		if id, ok := rec["id"].(float64); ok {
			label = fmt.Sprintf("#%d", int64(id))
		}
	}
	if u, ok := rec["url"].(string); ok && u != "" {
		label = fmt.Sprintf("<%s|%s>", u, label)
	}
	var parts []string
	shown := map[string]bool{"id": true, "name": true, "display_name": true, "url": true}
	for _, fl := range fieldLabels {
		v, ok := rec[fl.field]
		shown[fl.field] = true
		if !ok {
			continue
		}
		if s := plain(fl.field, v); s != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", fl.label, s))
		}
	}
	var rest []string
	for k := range rec {
		if !shown[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		if s := plain(k, rec[k]); s != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", k, s))
		}
	}
	if len(parts) == 0 {
		return "• *" + label + "*"
	}
	return "• *" + label + "* — " + strings.Join(parts, ", ")
}

func plain(field string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if !x {
			return ""
		}
		return "yes"
	case string:
		return x
	case float64:
		if strings.HasPrefix(field, "amount") || field == "expected_revenue" {
			return money(x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		// Maria's ERP service sends many2one as {"id": 10, "name": "Azure Interior"}.
		if name, ok := x["name"].(string); ok {
			return name
		}
	case []any:
		if len(x) == 2 {
			if s, ok := x[1].(string); ok {
				return s
			}
		}
		if len(x) == 0 {
			return ""
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func money(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	intPart, frac := s[:len(s)-3], s[len(s)-3:]
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String() + frac
	}
	return b.String() + frac
}

// totalFromHistory finds the last total named in earlier turns.
func totalFromHistory(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role == "user" || (m.Role == "system" && !strings.Contains(m.Text(), "earlier turns")) {
			continue
		}
		if found := reTotal.FindAllStringSubmatch(m.Text(), -1); len(found) > 0 {
			return found[len(found)-1][1]
		}
	}
	return ""
}

// partnerFromHistory finds the last customer named in earlier turns
// (Maria's answers or the summarized ERP lookups she kept).
func partnerFromHistory(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role != "assistant" && m.Role != "system" && m.Role != "tool" {
			continue
		}
		if m.Role == "system" && !strings.Contains(m.Text(), "earlier turns") {
			continue
		}
		if found := rePartner.FindAllStringSubmatch(m.Text(), -1); len(found) > 0 {
			return strings.TrimSpace(found[len(found)-1][1])
		}
	}
	return ""
}
