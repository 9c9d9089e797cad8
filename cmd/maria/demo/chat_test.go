package demo

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The offline model answers the common questions in `maria chat` with the
// Odoo simulator's figures, read through ai → erp → odoosim; anything else
// gets the list of what it can answer. A proposal lists every value before
// /confirm. The output is rendered: no raw Slack markup.
func TestChatAnswersCommonQuestionsFromTheERP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := Start(ctx, Options{DataDir: t.TempDir(), LogOutput: logSink()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, tt := range []struct {
		question string
		model    string // the ERP model read; "" none
		want     []string
	}{
		{"What is the status of S00044?", "sale.order", []string{"Customer: Gemini Furniture", "Status: sale", "Total: 624.45"}},
		{"Who are our top customers?", "account.move", []string{"1. Azure Interior — 5,842.00 (3 invoices)",
			"2. Deco Addict — 3,622.50 (1 invoice)", "3. Gemini Furniture — 624.45 (1 invoice)"}},
		{"Which invoices are unpaid?", "account.move", []string{"INV/2026/00007", "INV/2026/00008", "INV/2026/00005", "Total still due: 6,084.50"}},
		{"How many Office Chair do we have in stock?", "product.product", []string{"Office Chair", "In stock: 48"}},
		{"What stage is the Office Design Project lead in?", "crm.lead", []string{"Office Design Project", "Stage: Qualified", "Customer: Azure Interior"}},
		{"What's the weather like tomorrow?", "", []string{"Who are our top customers?", "What is the status of S00042?"}},
	} {
		t.Run(tt.question, func(t *testing.T) {
			var out syncBuffer
			since := time.Now()
			err := e.Chat(ctx, ChatOptions{In: strings.NewReader(tt.question + "\n"), Out: Printer{W: &out}, Channel: "D0Q" + strings.ToUpper(tt.model[:min(3, len(tt.model))])})
			text := out.String()
			t.Log("\n" + text)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.want {
				if !strings.Contains(text, want) {
					t.Errorf("answer lacks %q", want)
				}
			}
			read := map[string]bool{}
			for _, q := range e.Watch.Queries(since, time.Now()) {
				read[q.Model] = true
			}
			if tt.model != "" && !read[tt.model] {
				t.Errorf("the answer did not come from an ERP read of %s (read: %v)", tt.model, read)
			}
			if tt.model == "" && len(read) > 0 {
				t.Errorf("an off-script question read the ERP: %v", read)
			}
			if m := reRawMarkup.FindString(text); m != "" {
				t.Errorf("raw Slack markup: %s", m)
			}
		})
	}
	t.Run("proposal values before confirm", func(t *testing.T) { proposalBeforeConfirm(ctx, t, e) })
}

// proposalBeforeConfirm: the chat shows every value of a proposal before
// the user types /confirm, and the click writes the lead.
func proposalBeforeConfirm(ctx context.Context, t *testing.T, e *Env) {
	var out syncBuffer
	before := e.countLeads()
	err := e.Chat(ctx, ChatOptions{In: strings.NewReader(QuestionLead + "\n/confirm\n"), Out: Printer{W: &out}, Channel: "D0LEAD"})
	text := out.String()
	t.Log("\n" + text)
	if err != nil {
		t.Fatal(err)
	}
	confirm := strings.Index(text, "you › /confirm")
	for _, want := range []string{"`expected_revenue`: 5000", "`name`: \"Acme\"", "`user_id`: 2 (“Mitchell Admin”)", "[Confirm]  [Cancel]"} {
		if i := strings.Index(text, want); i < 0 || confirm < 0 || i > confirm {
			t.Errorf("%q is not shown before /confirm", want)
		}
	}
	if after := e.countLeads(); after != before+1 {
		t.Errorf("the confirmed lead was not written: %d → %d", before, after)
	}
}
