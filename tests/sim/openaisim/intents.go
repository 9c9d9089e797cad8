package openaisim

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The common questions the offline model answers besides order status,
// unpaid invoices for a customer, stock counts and new leads (rules.go).
// Each is answered by calling Maria's ERP tools, so the figures come from
// the ERP's records.
var (
	reTopCustomers = regexp.MustCompile(`(?i)\b(?:top|best|biggest|largest|main)\s+(\d+\s+)?(?:customers?|clients?)\b`)
	reInvoicesOpen = regexp.MustCompile(`(?i)\binvoices?\b.*\b(?:unpaid|not paid|open|outstanding|overdue|due)\b|\b(?:open|outstanding|overdue)\s+invoices?\b|\bwho (?:still )?owes\b`)
	reStockOf      = regexp.MustCompile(`(?i)\b(?:stock|inventory|on hand)\s+(?:level\s+|levels\s+)?(?:of|for)\s+(?:the\s+)?(.+?)\s*\??$|\bdo we have (?:any\s+)?(.+?)\s+(?:in stock|on hand)\b`)
	reLeadStage    = regexp.MustCompile(`(?i)\b(?:stage|status) (?:of|for) (?:the )?(?:lead|opportunity|deal)\s+["“]?(.+?)["”]?\s*\??$|\b(?:what|which) stage is (?:the )?["“]?(.+?)["”]?(?:\s+(?:lead|opportunity|deal))?\s+in\s*\??$`)
)

// firstGroup is the first non-empty capture of a match (alternatives).
func firstGroup(m []string) string {
	for _, g := range m[1:] {
		if strings.TrimSpace(g) != "" {
			return strings.TrimSpace(g)
		}
	}
	return ""
}

// topCustomersCall reads posted customer invoices: revenue per customer
// is summed from them when the answer is written.
func topCustomersCall() Response {
	return Call("odoo_search_read", map[string]any{
		"model":  "account.move",
		"domain": []any{[]any{"move_type", "=", "out_invoice"}, []any{"state", "=", "posted"}},
		"fields": []string{"name", "partner_id", "amount_total"},
		"limit":  80, "order": "amount_total desc",
	})
}

// openInvoicesCall reads every posted customer invoice not fully paid.
func openInvoicesCall(who string) Response {
	domain := []any{
		[]any{"move_type", "=", "out_invoice"},
		[]any{"state", "=", "posted"},
		[]any{"payment_state", "in", []string{"not_paid", "partial"}},
	}
	if who != "" {
		domain = append(domain, []any{"partner_id.name", "ilike", who})
	}
	return Call("odoo_search_read", map[string]any{
		"model": "account.move", "domain": domain,
		"fields": []string{"name", "partner_id", "invoice_date_due", "amount_total", "amount_residual", "payment_state"},
		"limit":  20, "order": "invoice_date_due asc",
	})
}

func stockCall(product string) Response {
	return Call("odoo_search_read", map[string]any{
		"model":  "product.product",
		"domain": []any{[]any{"name", "ilike", product}},
		"fields": []string{"name", "default_code", "qty_available", "uom_id"},
		"limit":  5,
	})
}

func leadStageCall(name string) Response {
	return Call("odoo_search_read", map[string]any{
		"model":  "crm.lead",
		"domain": []any{[]any{"name", "ilike", name}},
		"fields": []string{"name", "partner_id", "stage_id", "probability", "expected_revenue", "user_id"},
		"limit":  5,
	})
}

// topCustomers ranks customers by the invoices read, n at most.
func topCustomers(results []toolResult, n int) string {
	type total struct {
		name     string
		amount   float64
		invoices int
	}
	byName := map[string]*total{}
	for _, r := range results {
		if e, ok := r.Content["error"].(string); ok {
			return "I couldn't read the invoices from the ERP: " + e
		}
		for _, rec := range records(r.Content) {
			name := plain("partner_id", rec["partner_id"])
			amount, _ := rec["amount_total"].(float64)
			if name == "" {
				continue
			}
			if byName[name] == nil {
				byName[name] = &total{name: name}
			}
			byName[name].amount += amount
			byName[name].invoices++
		}
	}
	if len(byName) == 0 {
		return "I found no posted customer invoices, so no customer ranks first yet."
	}
	ranked := make([]*total, 0, len(byName))
	for _, t := range byName {
		ranked = append(ranked, t)
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].amount != ranked[j].amount {
			return ranked[i].amount > ranked[j].amount
		}
		return ranked[i].name < ranked[j].name
	})
	var b strings.Builder
	b.WriteString("Top customers by invoiced revenue (posted customer invoices):\n")
	for i, t := range ranked[:min(n, len(ranked))] {
		fmt.Fprintf(&b, "%d. *%s* — %s (%d invoice%s)\n", i+1, t.name, money(t.amount), t.invoices, plural(t.invoices))
	}
	return strings.TrimSpace(b.String())
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// topN is how many customers the question asks for (default 5).
func topN(m []string) int {
	if n, err := strconv.Atoi(strings.TrimSpace(m[1])); err == nil && n > 0 {
		return n
	}
	return 5
}

// capabilities is the answer to anything the offline model does not
// understand: what it can answer, as examples to copy.
const capabilities = "I'm the offline demo model: I answer a few common questions from the ERP's data. Try one of these:\n" +
	"• What is the status of S00042?\n" +
	"• Who are our top customers?\n" +
	"• Which invoices are unpaid? (or: unpaid invoices for Azure Interior)\n" +
	"• How many Office Chair do we have in stock?\n" +
	"• What stage is the Office Design Project lead in?\n" +
	"• create a lead for Acme, 5k, for Mitchell\n" +
	"With OPENAI_API_KEY (or OPENAI_BASE_URL) set, a real model answers anything."
