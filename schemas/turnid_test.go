package schemas

import (
	"regexp"
	"testing"
)

var turnShape = regexp.MustCompile(`^t-[a-z2-7]{26}$`)

// Turn ids are pinned like the envelope ids: a trace or a dashboard that
// remembered one must find the turn again after an upgrade.
func TestTurnIDsArePinned(t *testing.T) {
	for _, c := range []struct{ name, got, want string }{
		{"message", SlackMessageTurn("T1", "C1", "1700000000.000100"), "t-co56r7oad4oscogijmckbsffa4"},
		{"event", SlackEventTurn("T1", "Ev1"), "t-qx5dakkf6fd3ozdpgv2cx3gz4i"},
		{"interaction", SlackInteractionTurn("T1", "aa0fe26328ae6a62d3b3caeac937ac43"), "t-sifeoxtgzbkerzgrtaciavorhy"},
	} {
		if c.got != c.want {
			t.Errorf("%s: turn %s, want %s", c.name, c.got, c.want)
		}
		if !turnShape.MatchString(c.got) || !IsTurnID(c.got) {
			t.Errorf("%s: %s is not shaped like a turn id", c.name, c.got)
		}
	}
}

func TestTurnIDsSeparateWhatDiffers(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b string
		same bool
	}{
		{"a retry of a message", SlackMessageTurn("T1", "C1", "1.1"), SlackMessageTurn("T1", "C1", "1.1"), true},
		{"two messages", SlackMessageTurn("T1", "C1", "1.1"), SlackMessageTurn("T1", "C1", "1.2"), false},
		{"one ts in two channels", SlackMessageTurn("T1", "C1", "1.1"), SlackMessageTurn("T1", "C2", "1.1"), false},
		{"one event id in two teams", SlackEventTurn("T1", "Ev1"), SlackEventTurn("T2", "Ev1"), false},
		{"parts do not run together", TurnID("T1", "ab", "c"), TurnID("T1", "a", "bc"), false},
		{"kinds do not collide", SlackEventTurn("T1", "x"), SlackInteractionTurn("T1", "x"), false},
	} {
		if got := c.a == c.b; got != c.same {
			t.Errorf("%s: same = %v, want %v", c.name, got, c.same)
		}
	}
}

func TestIsTurnID(t *testing.T) {
	for s, want := range map[string]bool{
		SlackEventTurn("T1", "Ev1"):        true,
		"Ev123ABC456":                      false,
		"7f201d1ebbb82d8e7105b25f4d53b702": false,
		"t-":                               false,
		"t-ni4ngjr3q6jnvpgryglrfqcvb1":     false, // 1 is not base32
		"t-ni4ngjr3q6jnvpgryglrfqcvbiq":    false,
		"x-ni4ngjr3q6jnvpgryglrfqcvbi":     false,
		"1700000000.000100":                false,
	} {
		if got := IsTurnID(s); got != want {
			t.Errorf("IsTurnID(%q) = %v, want %v", s, got, want)
		}
	}
}
