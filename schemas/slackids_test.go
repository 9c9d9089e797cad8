package schemas

import (
	"net/url"
	"testing"
)

// The ids are pinned: they are the stream's dedup keys, so a change would
// let a Slack retry straddling an upgrade through as a second event.
func TestSlackIDsArePinned(t *testing.T) {
	full := url.Values{"team_id": {"T1"}, "channel_id": {"C1"}, "user_id": {"U1"}, "command": {"/maria"}, "text": {"hi"}, "response_url": {"http://r"}}
	for _, c := range []struct{ name, got, want string }{
		{"file", SlackFileEventID("T1", "C1", "F1"), "7f201d1ebbb82d8e7105b25f4d53b702"},
		{"action", SlackActionID("T1", "U1", "1.2", "erp_confirm", "b1", "tr1"), "aa0fe26328ae6a62d3b3caeac937ac43"},
		{"command with trigger", SlackCommandKeyFromForm(url.Values{"team_id": {"T1"}, "trigger_id": {"tr1"}}).ID(), "58adc877bf26c2094e0e1101ca0bbbea"},
		{"command without trigger", SlackCommandKeyFromForm(full).ID(), "ae236b515ebab39006b632e702149d94"},
	} {
		if c.got != c.want {
			t.Errorf("%s: id %s, want %s", c.name, c.got, c.want)
		}
	}
}

func TestSlackCommandID(t *testing.T) {
	base := SlackCommandKey{Team: "T1", Channel: "C1", User: "U1", Command: "/maria", Text: "hi", ResponseURL: "http://r"}
	withTrigger := func(k SlackCommandKey, tr string) SlackCommandKey { k.TriggerID = tr; return k }
	otherText := base
	otherText.Text = "bye"
	for _, c := range []struct {
		name string
		a, b SlackCommandKey
		same bool
	}{
		{"a retry without trigger_id", base, base, true},
		{"a retry with trigger_id", withTrigger(base, "tr1"), withTrigger(otherText, "tr1"), true},
		{"two invocations", withTrigger(base, "tr1"), withTrigger(base, "tr2"), false},
		{"different text without trigger_id", base, otherText, false},
		{"same trigger_id in two teams", withTrigger(base, "tr1"), SlackCommandKey{Team: "T2", TriggerID: "tr1"}, false},
	} {
		if got := c.a.ID() == c.b.ID(); got != c.same {
			t.Errorf("%s: same id = %v, want %v", c.name, got, c.same)
		}
	}
}
