package ai

import (
	"strings"
	"testing"
)

func testSanitizer() *sanitizer {
	return newSanitizer(newLinkPolicy([]string{"odoo.example.com", "*.docs.example.org"}), "U1ASKER")
}

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"channel", "Hi <!channel> there", "Hi @\u200dchannel there"},
		{"here with label and everyone", "<!here|here> and <!everyone>", "@\u200dhere and @\u200deveryone"},
		{"user group", "<!subteam^S0123|@sales-team> look", "@\u200dsales-team look"},
		{"user group without label", "<!subteam^S0123>", "@\u200dsubteam"},
		{"date shows its fallback", "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"plain mass mentions", "plain @channel @Here @everyone!", "plain @\u200dchannel @\u200dHere @\u200deveryone!"},
		{"asker mention kept, others inert", "<@U1ASKER> asked; <@U999|boss> and <@U998> not", "<@U1ASKER> asked; @\u200dboss and @\u200dU998 not"},
		{"channel link kept", "see <#C123|general>", "see <#C123|general>"},
		{"foreign slack link", "<https://evil.example/x|click here> now", "click here (`evil.example`) now"},
		{"foreign link without label", "<https://evil.example/x>", "`evil.example`"},
		{"odoo link kept", "<https://odoo.example.com/odoo/sale.order/42|S00042>", "<https://odoo.example.com/odoo/sale.order/42|S00042>"},
		{"slack link kept", "<https://app.slack.com/client/T1|open>", "<https://app.slack.com/client/T1|open>"},
		{"wildcard host", "<https://a.docs.example.org/x|doc>", "<https://a.docs.example.org/x|doc>"},
		{"credentials in url", "<https://user:pw@slack.com/>", "`slack.com`"},
		{"look-alike host", "https://files.slack.com.evil.example/x", "`files.slack.com.evil.example`"},
		{"label is a foreign url", "<https://evil.example|https://evil.example/login>", "`evil.example` (`evil.example`)"},
		{"javascript", "<javascript:alert(1)|x>", "x"},
		{"mailto", "<mailto:bob@example.com|Bob>", "Bob"},
		{"markdown links", "[S00042](https://odoo.example.com/x) and [win](http://evil.example/a)", "[S00042](https://odoo.example.com/x) and win (`evil.example`)"},
		{"markdown link with title", `[label](https://evil.example "title")`, "label (`evil.example`)"},
		{"brackets that are no link", "*bold* [id 42] text (see above)", "*bold* [id 42] text (see above)"},
		{"bare foreign url", "see https://evil.example/path?q=1.", "see `evil.example`."},
		{"bare allowed url", "see https://app.slack.com/client/T1 ok", "see https://app.slack.com/client/T1 ok"},
		{"www", "go to www.evil.example now", "go to `www.evil.example` now"},
		{"less than", "a < b and c > d", "a &lt; b and c > d"},
		{"html-ish", "a<b>c", "a&lt;b&gt;c"},
		{"unterminated at the end", "oops <!channel", "oops &lt;!channel"},
		{"unicode", "日本語 <!channel> ünïcödé https://ëvil.example/ü ok 🎉", "日本語 @\u200dchannel ünïcödé `ëvil.example` ok 🎉"},
		{"plain text untouched", "Maria says hi, with *bold* and _it_ — 12 < 13? no: 5€", "Maria says hi, with *bold* and _it_ — 12 &lt; 13? no: 5€"},
		{"emails may get a joiner", "write to ops@here.example", "write to ops@\u200dhere.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testSanitizer().Sanitize(tc.in); got != tc.want {
				t.Fatalf("Sanitize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			// Streamed in two pieces split anywhere (even inside a rune),
			// the output is the same and no piece carries a live token.
			for cut := 1; cut < len(tc.in); cut++ {
				s := testSanitizer()
				a := s.Write(tc.in[:cut])
				b := s.Write(tc.in[cut:])
				c := s.Flush()
				if got := a + b + c; got != tc.want {
					t.Fatalf("split at %d (%q | %q): got %q, want %q", cut, tc.in[:cut], tc.in[cut:], got, tc.want)
				}
				for _, piece := range []string{a, b, c} {
					if strings.Contains(piece, "<!") {
						t.Fatalf("split at %d: piece %q carries a special mention", cut, piece)
					}
				}
			}
			// And byte by byte.
			s := testSanitizer()
			var got strings.Builder
			for i := 0; i < len(tc.in); i++ {
				got.WriteString(s.Write(tc.in[i : i+1]))
			}
			got.WriteString(s.Flush())
			if got.String() != tc.want {
				t.Fatalf("byte by byte: got %q, want %q", got.String(), tc.want)
			}
		})
	}
}

func TestSanitizerHoldsUnfinishedTokens(t *testing.T) {
	s := testSanitizer()
	for _, step := range []struct{ in, out, pending string }{
		{"Done. <!chan", "Done. ", "&lt;!chan"},
		{"nel> and @ever", "@\u200dchannel and ", "@ever"},
		{"yone, see https://evil.exa", "@\u200deveryone, see ", "`evil.exa`"},
		{"mple/x now", "`evil.example` now", ""},
	} {
		if got := s.Write(step.in); got != step.out {
			t.Fatalf("Write(%q) = %q, want %q", step.in, got, step.out)
		}
		if got := s.Pending(); got != step.pending {
			t.Fatalf("after %q pending renders %q, want %q", step.in, got, step.pending)
		}
	}
	// A "<" that never closes is released once it is too long to be a token.
	long := "<" + strings.Repeat("x", maxTokenBytes+1)
	if got := s.Write(long); !strings.HasPrefix(got, "&lt;x") {
		t.Fatalf("unclosed < held beyond maxTokenBytes: %q", got[:min(len(got), 20)])
	}
}

func TestLinkPolicy(t *testing.T) {
	p := newLinkPolicy([]string{"odoo.example.com"})
	for host, want := range map[string]bool{
		"slack.com": true, "app.slack.com": true, "files.slack.com": true, "evilslack.com": false,
		"slack.com.evil.example": false, "odoo.example.com": true, "ODOO.example.com.": true,
		"sub.odoo.example.com": false, "127.0.0.1": false, "": false,
	} {
		if got := p.Allowed(host); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", host, got, want)
		}
	}
	p.Learn("http://127.0.0.1:8069")
	if !p.Allowed("127.0.0.1") {
		t.Error("a learned Odoo base URL's host is not allowed")
	}
}
