package schemas

import "testing"

func TestIdentityVerb(t *testing.T) {
	for text, want := range map[string]string{
		"connect": IdentityConnect, "  Connect   Odoo ": IdentityConnect, "login": IdentityConnect,
		"disconnect": IdentityDisconnect, "LOGOUT": IdentityDisconnect,
		"": "", "connect me to S00042": "", "what is S00042?": "",
	} {
		if got := IdentityVerb(text); got != want {
			t.Errorf("IdentityVerb(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestAsksToConnect(t *testing.T) {
	mk := func(typ string, data any) *Envelope {
		e, err := New("id", typ, "ingress", data)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for name, c := range map[string]struct {
		env  *Envelope
		want bool
	}{
		"/maria connect":    {mk(TypeSlackCommand, SlackCommand{Command: "/maria", Text: "connect"}), true},
		"/maria disconnect": {mk(TypeSlackCommand, SlackCommand{Command: "/maria", Text: "disconnect"}), false},
		"a question":        {mk(TypeSlackCommand, SlackCommand{Command: "/maria", Text: "unpaid invoices"}), false},
		"connect button":    {mk(TypeSlackAction, SlackAction{ActionID: ActionERPConnect}), true},
		"confirm button":    {mk(TypeSlackAction, SlackAction{ActionID: ActionERPConfirm}), false},
		"a message":         {mk(TypeSlackMessage, SlackMessage{Text: "connect"}), false},
	} {
		if got := AsksToConnect(c.env); got != c.want {
			t.Errorf("%s: AsksToConnect = %v, want %v", name, got, c.want)
		}
	}
}
