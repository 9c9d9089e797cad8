package ai

import (
	"strings"
	"testing"
)

func TestIsHelpRequest(t *testing.T) {
	for text, want := range map[string]bool{
		"help": true, "Help": true, " HELP? ": true, "help!": true,
		"help me find unpaid invoices": false, "helpdesk tickets": false, "": false,
	} {
		if got := isHelpRequest(text); got != want {
			t.Errorf("isHelpRequest(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestHelpTextExplainsWithoutDemoRecords(t *testing.T) {
	h := helpText("U1")
	for _, want := range []string{"<@U1>", "Confirm", "proposal", "audit", "direct messages"} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %q: %s", want, h)
		}
	}
	for _, demo := range []string{"S00042", "Azure Interior", "Desk Combination"} {
		if strings.Contains(h, demo) {
			t.Errorf("help names the demo's record %q", demo)
		}
	}
}

func TestHelpTextHasNoStrayAngleBrackets(t *testing.T) {
	// Slack reads <...> as a link or mention: only the user mention may use them.
	h := strings.Replace(helpText("U1"), "<@U1>", "", 1)
	if strings.ContainsAny(h, "<>") {
		t.Errorf("help has angle brackets Slack would misread: %s", h)
	}
}
