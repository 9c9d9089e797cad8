package install

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The scopes asked at install are the manifest's bot scopes.
func TestBotScopesMatchManifest(t *testing.T) {
	raw, err := os.ReadFile("../../infra/slack/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var scopes []string
	in := false
	for line := range strings.Lines(string(raw)) {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "bot:":
			in = true
		case in && strings.HasPrefix(trimmed, "- "):
			scopes = append(scopes, strings.TrimPrefix(trimmed, "- "))
		case in:
			in = false
		}
	}
	if !slices.Equal(scopes, BotScopes) {
		t.Fatalf("manifest bot scopes %v, BotScopes %v", scopes, BotScopes)
	}
}
