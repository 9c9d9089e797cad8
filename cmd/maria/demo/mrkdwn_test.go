package demo

import (
	"regexp"
	"strings"
	"testing"
)

// reRawMarkup is Slack markup that must never reach the terminal: a
// control sequence <…> with a link, mention or command inside.
var reRawMarkup = regexp.MustCompile(`<(https?:|mailto:|@|#|!)[^>]*>`)

func TestMrkdwnPlain(t *testing.T) {
	users := func(id string) string {
		if id == "U0ALICE" {
			return "alice"
		}
		return ""
	}
	for _, tt := range []struct{ name, in, want string }{
		{"bold link", "*<http://odoo.test/odoo/sale.order/42|S00042>* is confirmed",
			"S00042 (http://odoo.test/odoo/sale.order/42) is confirmed"},
		{"link without label", "see <https://example.com/x>", "see https://example.com/x"},
		{"label equal to url", "<https://a.test|https://a.test>", "https://a.test"},
		{"mailto", "write to <mailto:bob@example.com|bob@example.com>", "write to bob@example.com"},
		{"user mention known", "Requested by <@U0ALICE>.", "Requested by @alice."},
		{"user mention unknown", "hi <@U0BOB>", "hi @U0BOB"},
		{"user mention with label", "hi <@U0BOB|bob>", "hi @bob"},
		{"channel", "in <#C0SALES|sales> and <#C0OPS>", "in #sales and #C0OPS"},
		{"special", "<!here> <!subteam^S1|@ops> <!date^1700000000^{date}|Nov 14>", "@here @ops Nov 14"},
		{"emphasis", "*bold* _it_ ~gone~ and snake_case_name stay", "bold it gone and snake_case_name stay"},
		{"not emphasis", "2 * 3 * 4 and a*b*c", "2 * 3 * 4 and a*b*c"},
		{"bold label in link", "<https://x.test|*Total*>", "*Total* (https://x.test)"},
		{"escapes", "a &lt;b&gt; &amp; c", "a <b> & c"},
		{"escaped markup stays text", "&lt;https://x.test|y&gt;", "<https://x.test|y>"},
		{"inline code verbatim", "run `maria *tail*` now", "run `maria *tail*` now"},
		{"code block", "before\n```\nx := <y>\n*z*\n```\nafter", "before\n    x := <y>\n    *z*\nafter"},
		{"code block one line", "```SELECT 1```", "    SELECT 1"},
		{"list", "- one\n• two\n  * three\n1. four", "• one\n• two\n  • three\n1. four"},
		{"italic around code", "_every value is in the attached `proposal-1.json`. Check it._",
			"every value is in the attached `proposal-1.json`. Check it."},
		{"code with link markup", "type `<https://x.test|y>` as is", "type `<https://x.test|y>` as is"},
		{"quote", "&gt; quoted *text*", "│ quoted text"},
		{"proposal", "*Proposed change:* create a `crm.lead` record\n• `expected_revenue`: 5000\n• `name`: \"Acme\"",
			"Proposed change: create a `crm.lead` record\n• `expected_revenue`: 5000\n• `name`: \"Acme\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Mrkdwn{Users: users}.Render(tt.in)
			if got != tt.want {
				t.Fatalf("Render(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if tt.name != "escaped markup stays text" && tt.name != "code block" && tt.name != "code with link markup" && reRawMarkup.MatchString(got) {
				t.Fatalf("raw markup in %q", got)
			}
		})
	}
}

func TestMrkdwnColor(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"*<http://o.test/42|S00042>*", styleBold + "S00042 (http://o.test/42)" + styleReset},
		{"_x_ ~y~", styleItalic + "x" + styleReset + " " + styleStrike + "y" + styleReset},
		{"a `b` c", "a " + styleCyan + "b" + styleReset + " c"},
	} {
		if got := (Mrkdwn{Color: true}).Render(tt.in); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := (Mrkdwn{}).Render("*a* _b_"); strings.Contains(got, "\x1b") {
		t.Fatalf("ANSI without colour: %q", got)
	}
}
