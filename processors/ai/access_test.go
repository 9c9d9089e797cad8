package ai

import (
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/schemas"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestERPPolicyAccess(t *testing.T) {
	read, _ := ParseChannelList("r", "dm,C0READ,C0BOTH")
	write, _ := ParseChannelList("w", "dm,C0BOTH")
	pol := ERPPolicy{Read: read, Write: write}
	open := pol
	open.AllowGuests, open.AllowExternal = true, true
	for _, tc := range []struct {
		name                   string
		pol                    ERPPolicy
		kind, channel, chType  string
		read, write            bool
		readReason, writeWhyIn string
	}{
		{"member in a read+write channel", pol, schemas.UserKindMember, "C0BOTH", "channel", true, true, "", ""},
		{"member in a read-only channel", pol, schemas.UserKindMember, "C0READ", "channel", true, false, "", "MARIA_ERP_WRITE_CHANNELS"},
		{"member in a channel not listed", pol, schemas.UserKindMember, "C0OTHER", "channel", false, false, refusedChannel, "MARIA_ERP_READ_CHANNELS"},
		{"member in a DM (id)", pol, schemas.UserKindMember, "D0DM", "", true, true, "", ""},
		{"member in a DM (channel_type)", pol, schemas.UserKindMember, "C0X", "im", true, true, "", ""},
		{"group DM is not a DM", pol, schemas.UserKindMember, "G0MPIM", "mpim", false, false, refusedChannel, "MARIA_ERP_READ_CHANNELS"},
		{"guest", pol, schemas.UserKindGuest, "C0BOTH", "channel", false, false, refusedGuest, "Guests and people from other organisations"},
		{"external", pol, schemas.UserKindExternal, "D0DM", "im", false, false, refusedExternal, "Guests and people from other organisations"},
		{"bot", pol, schemas.UserKindBot, "C0BOTH", "channel", false, false, refusedBot, "Bots"},
		{"unknown", pol, schemas.UserKindUnknown, "C0BOTH", "channel", false, false, refusedUnknown, "couldn't confirm"},
		{"unclassified is unknown", pol, "", "C0BOTH", "channel", false, false, refusedUnknown, "couldn't confirm"},
		{"guest opted in", open, schemas.UserKindGuest, "C0BOTH", "channel", true, true, "", ""},
		{"external opted in", open, schemas.UserKindExternal, "C0READ", "channel", true, false, "", "MARIA_ERP_WRITE_CHANNELS"},
		{"everywhere", ERPPolicy{Read: ChannelList{all: true}, Write: ChannelList{all: true}}, schemas.UserKindMember, "C9", "", true, true, "", ""},
		{"zero policy allows nothing", ERPPolicy{}, schemas.UserKindMember, "D0DM", "im", false, false, refusedChannel, "MARIA_ERP_READ_CHANNELS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.pol.Access(tc.kind, tc.channel, tc.chType)
			if a.read != tc.read || a.write != tc.write || a.readReason != tc.readReason || !strings.Contains(a.writeWhy, tc.writeWhyIn) {
				t.Fatalf("Access = %+v", a)
			}
			// Tools offered match the access; the runner refuses the rest.
			names := map[string]bool{}
			for _, d := range toolsFor(a) {
				names[d.Function.Name] = true
			}
			for _, tool := range []string{ToolSearchRead, ToolCount, ToolFields, ToolCreate, ToolWrite} {
				allowed := a.read && (a.write || !isWriteTool(tool))
				if names[tool] != allowed {
					t.Errorf("%s offered = %v, want %v", tool, names[tool], allowed)
				}
				if _, _, refused := a.gate(tool); refused == allowed {
					t.Errorf("%s refused at the runner = %v, want %v", tool, refused, !allowed)
				}
			}
		})
	}
}

func TestLoadConfigReportsEveryERPAccessError(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{
		"OPENAI_API_KEY":           "sk-test",
		"MARIA_ERP_READ_CHANNELS":  "C0OK,#general,c0lower",
		"MARIA_ERP_WRITE_CHANNELS": "C0OK,C0WRITEONLY,dm",
		"MARIA_LINK_ALLOWED_HOSTS": "docs.example.com,https://x.example/,*.wiki.example",
		"MARIA_ERP_ALLOW_GUESTS":   "maybe",
	})
	cfg := LoadConfig(env)
	err := env.Err()
	if err == nil {
		t.Fatal("invalid ERP access configuration accepted")
	}
	for _, want := range []string{`"#general" is a channel name`, `"c0lower" is not a channel id`,
		"C0WRITEONLY, dm not in MARIA_ERP_READ_CHANNELS", `"https://x.example/" is not a host name`, "MARIA_ERP_ALLOW_GUESTS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if got := strings.Join(cfg.LinkHosts, ","); got != "docs.example.com,*.wiki.example" {
		t.Errorf("link hosts = %s", got)
	}

	// Defaults: direct messages only, members only, Odoo's host linkable.
	env = config.NewEnvFrom(map[string]string{"OPENAI_API_KEY": "sk-test", "ODOO_URL": "https://erp.example.com"})
	cfg = LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	if a := cfg.ERP.Access(schemas.UserKindMember, "C0ANY", "channel"); a.read {
		t.Error("ERP reads enabled in channels by default")
	}
	if a := cfg.ERP.Access(schemas.UserKindMember, "D0DM", "im"); !a.read || !a.write {
		t.Errorf("ERP access in a DM by default = %+v", a)
	}
	if a := cfg.ERP.Access(schemas.UserKindGuest, "D0DM", "im"); a.read {
		t.Error("guests have ERP access by default")
	}
	if !newLinkPolicy(cfg.LinkHosts).Allowed("erp.example.com") {
		t.Error("ODOO_URL's host is not linkable")
	}
}

// A guest is offered no tools; when the model calls one anyway the runner
// refuses it: nothing reaches maria.erp.query, and the answer ends with why.
func TestGuestGetsNoERP(t *testing.T) {
	h := newHarness(t, testConfig())
	erp := startERPStub(t, h.b, orderReply)
	h.model.push(
		callTool(ToolSearchRead, map[string]any{"model": "sale.order", "domain": []any{}}),
		say("I cannot look that up."),
	)
	before := testutil.ToFloat64(metricERPRefusals.WithLabelValues("read", refusedGuest))
	h.inboundAs(schemas.UserKindGuest, schemas.KindMention, schemas.TypeSlackMention, "ev1", "U7", "",
		schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> status of S00042?"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "no stream stop")
	if q := erp.all(); len(q) != 0 {
		t.Fatalf("a guest's turn queried the ERP: %+v", q)
	}
	reqs := h.model.requests()
	if len(reqs[0].Tools) != 0 || !strings.Contains(reqs[0].Messages[1].Content, "ERP access is not available") {
		t.Fatalf("guest's request offers %d tools, second message %q", len(reqs[0].Tools), reqs[0].Messages[1].Content)
	}
	if !strings.Contains(reqs[1].Messages[len(reqs[1].Messages)-1].Content, "not allowed here") {
		t.Fatalf("the refused call's result = %q", reqs[1].Messages[len(reqs[1].Messages)-1].Content)
	}
	if got := streamedText(t, h.outputs("")); !strings.Contains(got, "🔒 Guests and people from other organisations cannot use Maria's ERP access") {
		t.Fatalf("answer %q does not say why", got)
	}
	if d := testutil.ToFloat64(metricERPRefusals.WithLabelValues("read", refusedGuest)) - before; d != 2 {
		t.Fatalf("guest refusals counted %v, want 2 (the turn and the call)", d)
	}
}

// In a channel enabled for reads only, a proposal the model makes anyway
// is refused: no proposal message, no stored proposal.
func TestWriteRefusedInReadOnlyChannel(t *testing.T) {
	cfg := testConfig()
	cfg.ERP.Write = ChannelList{dm: true}
	h := newHarness(t, cfg)
	h.model.push(
		callTool(ToolCreate, map[string]any{"model": "crm.lead", "values": map[string]any{"name": "Acme"}}),
		say("Done."),
	)
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "",
		schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> create a lead for Acme"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "no stream stop")
	for _, d := range h.model.requests()[0].Tools {
		if isWriteTool(d.Function.Name) {
			t.Fatalf("%s offered in a read-only channel", d.Function.Name)
		}
	}
	if posts := h.outputs(schemas.TypeOutPost); len(posts) != 0 {
		t.Fatalf("a proposal was posted: %d posts", len(posts))
	}
	if got := streamedText(t, h.outputs("")); !strings.Contains(got, "🔒 ERP changes are not enabled in this channel; ask an admin to add it to MARIA_ERP_WRITE_CHANNELS, or ask me in a direct message.") {
		t.Fatalf("answer %q does not say why", got)
	}
}

// The streamed answer (7-byte deltas, 10-char flushes) cannot ping.
func TestStreamedAnswerIsSanitized(t *testing.T) {
	h := newHarness(t, testConfig())
	h.model.push(say("Heads up <!channel> and @here: see https://evil.example/login or <@U999>, <@U1>."))
	h.inbound(schemas.KindMention, schemas.TypeSlackMention, "ev1", "U1", "",
		schemas.SlackMessage{TS: "100.1", Text: "<@UMARIA> hi"})
	bustest.Eventually(t, 5*time.Second, func() bool { return len(h.outputs(schemas.TypeOutStreamStop)) == 1 }, "no stream stop")
	want := "Heads up @\u200dchannel and @\u200dhere: see `evil.example` or @\u200dU999, <@U1>."
	if got := streamedText(t, h.outputs("")); got != want {
		t.Fatalf("streamed %q, want %q", got, want)
	}
	for _, e := range h.outputs(schemas.TypeOutStreamAppend) {
		if d, _ := schemas.DecodeData[schemas.OutStream](e); strings.Contains(d.Markdown, "<!") {
			t.Fatalf("append carries a special mention: %q", d.Markdown)
		}
	}
}
