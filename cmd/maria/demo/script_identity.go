package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/mariahq/maria/tests/sim/odoosim"
)

// ownOdooUser: Marc connects his own Odoo user (a salesperson without
// invoice rights) and asks for unpaid invoices: Odoo's refusal, in words.
// Connected with the manager's key instead, the same question is answered
// — the rights are Odoo's, not Maria's.
func (s *script) ownOdooUser(ctx context.Context) {
	e := s.e
	if e.Odoo == nil {
		s.p.Printf("  (real Odoo: connect your own user with /maria connect; this step needs the simulator's users)\n")
		return
	}
	e.Slack.AddUser(ScriptSeller, "marc", "Marc Demo", e.Odoo.Account(odoosim.SalespersonLogin).Email)
	ask := func() string {
		t, seen, ok := s.ask(ctx, func() (*Turn, error) { return e.Mention(ctx, ScriptChannel, ScriptSeller, QuestionUnpaid, "") }, Answered)
		if !ok {
			return ""
		}
		return s.answerIn(t, seen)
	}
	for i, who := range []odoosim.Account{e.Odoo.Account(odoosim.SalespersonLogin), e.Odoo.Account(odoosim.ManagerLogin)} {
		s.p.Printf("  %s › /maria connect  (login %s, API key ••••)\n", ScriptSeller, who.Login)
		answer, err := e.ConnectOdoo(ctx, ScriptChannel, ScriptSeller, who.Login, who.APIKey)
		if err != nil {
			s.fail(err)
			return
		}
		if !s.check(answer["response_action"] == "update" && strings.Contains(fmt.Sprint(answer), who.Name), "connected as %s (%s)", who.Name, who.Login) {
			return
		}
		text := ask()
		if i == 0 {
			s.check(strings.Contains(text, "may not read account.move"), "the salesperson is told Odoo does not let their user read invoices")
		} else {
			s.check(strings.Contains(text, "INV/"), "connected as the manager, the same question is answered")
		}
	}
}
