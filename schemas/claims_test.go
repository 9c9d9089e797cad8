package schemas

import "testing"

func TestClaimRuleMatches(t *testing.T) {
	msg := func(text string) ClaimEvent { return ClaimEvent{Kind: KindMessage, Channel: "C1", Text: text} }
	cases := []struct {
		name string
		rule ClaimRule
		ev   ClaimEvent
		want bool
	}{
		{"prefix after a mention, any case", ClaimRule{Prefix: "!time"}, ClaimEvent{Kind: KindMention, Text: "<@U0MARIA> !TIME please"}, true},
		{"prefix elsewhere in the text", ClaimRule{Prefix: "!time"}, msg("what is !time"), false},
		{"contains", ClaimRule{Contains: "thank"}, msg("Many THANKS Maria"), true},
		{"contains missing", ClaimRule{Contains: "thank"}, msg("S00042?"), false},
		{"kind not covered", ClaimRule{Kinds: []string{KindMention}, Prefix: "x"}, msg("x"), false},
		{"kind covered", ClaimRule{Kinds: []string{KindMessage}, Prefix: "x"}, msg("x"), true},
		{"channel listed", ClaimRule{Channels: []string{"C1"}}, msg("anything"), true},
		{"channel not listed", ClaimRule{Channels: []string{"C2"}, Prefix: "x"}, msg("x"), false},
		{"slash command", ClaimRule{Command: "/time"}, ClaimEvent{Kind: KindCommand, Command: "/TIME", Text: ""}, true},
		{"another slash command", ClaimRule{Command: "/time"}, ClaimEvent{Kind: KindCommand, Command: "/maria", Text: "time"}, false},
		{"command rule never matches a message", ClaimRule{Command: "/time"}, msg("/time"), false},
		{"every field must match", ClaimRule{Prefix: "thanks", Contains: "invoice"}, msg("thanks for the quote"), false},
		{"action events are never claimed", ClaimRule{Channels: []string{"C1"}}, ClaimEvent{Kind: KindAction, Channel: "C1"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.rule.Matches(c.ev); got != c.want {
				t.Errorf("%+v matches %+v = %v, want %v", c.rule, c.ev, got, c.want)
			}
		})
	}
}

func TestClaimRuleValidate(t *testing.T) {
	cases := []struct {
		rule ClaimRule
		ok   bool
	}{
		{ClaimRule{Prefix: "!time"}, true},
		{ClaimRule{Command: "/time"}, true},
		{ClaimRule{Channels: []string{"C1"}}, true},
		{ClaimRule{}, false},
		{ClaimRule{Kinds: []string{KindMessage}}, false},
		{ClaimRule{Kinds: []string{KindFile}, Prefix: "x"}, false},
		{ClaimRule{Command: "time"}, false},
	}
	for _, c := range cases {
		if err := c.rule.Validate(); (err == nil) != c.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", c.rule, err, c.ok)
		}
	}
}

func TestClaimEventOf(t *testing.T) {
	env, _ := New("Ev1", TypeSlackCommand, "ingress", SlackCommand{Command: "/time", Text: "utc"})
	env.Channel = "C9"
	ev, ok := ClaimEventOf(env)
	if !ok || ev != (ClaimEvent{Kind: KindCommand, Channel: "C9", Command: "/time", Text: "utc"}) {
		t.Fatalf("command: %+v %v", ev, ok)
	}
	env, _ = New("Ev2", TypeSlackMention, "ingress", SlackMessage{TS: "1.2", Text: "<@U1> hi"})
	if ev, ok := ClaimEventOf(env); !ok || ev.Kind != KindMention || ev.Text != "<@U1> hi" {
		t.Fatalf("mention: %+v %v", ev, ok)
	}
	env, _ = New("Ev3", TypeSlackAction, "ingress", SlackAction{ActionID: "confirm"})
	if _, ok := ClaimEventOf(env); ok {
		t.Fatal("an action is not claimable")
	}
}
