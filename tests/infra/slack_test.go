package infra

import (
	"sort"
	"strings"
	"testing"
)

var (
	wantBotScopes = []string{"app_mentions:read", "chat:write", "channels:history", "groups:history", "im:history",
		"mpim:history", "files:read", "files:write", "reactions:read", "reactions:write", "commands",
		"assistant:write", "users:read", "users:read.email"}
	wantBotEvents = []string{"app_home_opened", "app_mention", "message.channels", "message.groups", "message.im", "message.mpim",
		"file_shared", "reaction_added", "assistant_thread_started", "assistant_thread_context_changed",
		"app_uninstalled", "tokens_revoked"}
)

// TestSlackManifests: the scopes, events, command, interactivity and
// assistant view ingress handles; the HTTP manifest points at ingress'
// routes; the Socket Mode variant is the same app without URLs.
func TestSlackManifests(t *testing.T) {
	httpM := loadYAML(t, "infra", "slack", "manifest.yaml")[0]
	sockM := loadYAML(t, "infra", "slack", "manifest-socket-mode.yaml")[0]

	for name, m := range map[string]map[string]any{"manifest.yaml": httpM, "manifest-socket-mode.yaml": sockM} {
		t.Run(name, func(t *testing.T) {
			if got := str(m, "display_information", "name"); got != "Maria" {
				t.Errorf("display name %q", got)
			}
			if got := str(m, "features", "bot_user", "display_name"); got != "Maria" {
				t.Errorf("bot display name %q", got)
			}
			if missing, extra := diffSets(wantBotScopes, strs(m, "oauth_config", "scopes", "bot")); len(missing)+len(extra) > 0 {
				t.Errorf("bot scopes: missing %v, extra %v", missing, extra)
			}
			if missing, extra := diffSets(wantBotEvents, strs(m, "settings", "event_subscriptions", "bot_events")); len(missing)+len(extra) > 0 {
				t.Errorf("bot events: missing %v, extra %v", missing, extra)
			}
			cmds := list(m, "features", "slash_commands")
			if len(cmds) != 1 || str(cmds[0], "command") != "/maria" {
				t.Errorf("slash commands %v, want /maria", cmds)
			}
			if str(m, "settings", "interactivity", "is_enabled") != "true" {
				t.Error("interactivity is not enabled (Confirm / Cancel buttons)")
			}
			if str(m, "features", "assistant_view", "assistant_description") == "" {
				t.Error("no assistant view")
			}
		})
	}
	if str(httpM, "settings", "socket_mode_enabled") != "false" || str(sockM, "settings", "socket_mode_enabled") != "true" {
		t.Error("socket_mode_enabled: want false in manifest.yaml, true in manifest-socket-mode.yaml")
	}
	urls := map[string]string{
		"events":       str(httpM, "settings", "event_subscriptions", "request_url"),
		"interactions": str(httpM, "settings", "interactivity", "request_url"),
		"commands":     str(list(httpM, "features", "slash_commands")[0], "url"),
	}
	for route, u := range urls {
		if !strings.HasPrefix(u, "https://") || !strings.HasSuffix(u, "/slack/"+route) {
			t.Errorf("%s URL %q, want https://<host>/slack/%s", route, u, route)
		}
	}
	for _, u := range []string{
		str(sockM, "settings", "event_subscriptions", "request_url"),
		str(sockM, "settings", "interactivity", "request_url"),
		str(list(sockM, "features", "slash_commands")[0], "url"),
	} {
		if u != "" {
			t.Errorf("socket mode manifest has a request URL %q", u)
		}
	}
	// Everything else identical: strip the transport differences and compare.
	strip := func(m map[string]any) string {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		flat := flatten("", out)
		var keep []string
		for _, kv := range flat {
			if strings.Contains(kv, "request_url=") || strings.Contains(kv, ".url=") || strings.Contains(kv, "socket_mode_enabled=") ||
				strings.Contains(kv, "redirect_urls") {
				continue
			}
			keep = append(keep, kv)
		}
		sort.Strings(keep)
		return strings.Join(keep, "\n")
	}
	if a, b := strip(httpM), strip(sockM); a != b {
		missing, extra := diffSets(strings.Split(a, "\n"), strings.Split(b, "\n"))
		t.Errorf("the manifests differ beyond transport: only in manifest.yaml %v, only in the socket variant %v", missing, extra)
	}
}

func flatten(prefix string, v any) []string {
	switch x := v.(type) {
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, flatten(prefix+"."+k, e)...)
		}
		return out
	case []any:
		var out []string
		for i, e := range x {
			out = append(out, flatten(prefix+"["+str(i)+"]", e)...)
		}
		return out
	default:
		return []string{prefix + "=" + str(x)}
	}
}
