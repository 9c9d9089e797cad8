package main

import (
	"strings"
	"testing"
)

// A smoke check without its settings is a wrong command line: exit 2, and
// every missing setting named on one line (the deploy log shows why).
func TestSmokeWithoutSettingsNamesThemAll(t *testing.T) {
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_BOT_TOKEN", "")
	code, _, errOut := run(t, "smoke", "--channel", "C1")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errOut)
	}
	first := strings.SplitN(errOut, "\n", 2)[0]
	for _, w := range []string{"--ingress-url", "--user", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"} {
		if !strings.Contains(first, w) {
			t.Errorf("first line %q lacks %s", first, w)
		}
	}
	if strings.Contains(first, "--channel is required") {
		t.Errorf("--channel was given: %q", first)
	}
}
