package ingress

import "testing"

func TestAllowLists(t *testing.T) {
	a := newAllowLists([]string{"T0OK"}, []string{"E0ORG"}, []string{"A0APP"})
	teamsOnly := newAllowLists([]string{"T0OK"}, nil, nil)
	cases := []struct {
		name  string
		lists *allowLists
		r     Result
		want  string
	}{
		{"nothing configured", newAllowLists(nil, nil, nil), Result{Team: "T0ANY", AppID: "A0ANY"}, ""},
		{"allowed", a, Result{Team: "T0OK", Enterprise: "E0ORG", AppID: "A0APP"}, ""},
		{"foreign team", a, Result{Team: "T0EVIL", Enterprise: "E0ORG", AppID: "A0APP"}, RefusedTeam},
		{"foreign enterprise", a, Result{Team: "T0OK", Enterprise: "E0EVIL", AppID: "A0APP"}, RefusedEnterprise},
		{"no enterprise when one is required", a, Result{Team: "T0OK", AppID: "A0APP"}, RefusedEnterprise},
		{"foreign app", a, Result{Team: "T0OK", Enterprise: "E0ORG", AppID: "A0EVIL"}, RefusedApp},
		{"no app id when one is required", a, Result{Team: "T0OK", Enterprise: "E0ORG"}, RefusedApp},
		{"org-wide install without a team, allowed organisation", a, Result{Enterprise: "E0ORG", EnterpriseInstall: true, AppID: "A0APP"}, ""},
		{"org-wide install without a team, teams only", teamsOnly, Result{Enterprise: "E0ORG", EnterpriseInstall: true}, RefusedTeam},
		{"teams only", teamsOnly, Result{Team: "T0OK", Enterprise: "E0WHATEVER", AppID: "A0WHATEVER"}, ""},
		{"nil lists", nil, Result{Team: "T0ANY"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.lists.check(&c.r); got != c.want {
				t.Fatalf("check = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNormalizerTellsTheInstallation(t *testing.T) {
	n := NewNormalizer(nil, nil)
	ev, err := n.Event([]byte(`{"type":"event_callback","team_id":"T0A","api_app_id":"A0B","event_id":"Ev1",
		"authorizations":[{"enterprise_id":"E0C","team_id":"T0A","user_id":"U0BOT","is_bot":true,"is_enterprise_install":true}],
		"event":{"type":"message","channel":"C1","user":"U0EXT","user_team":"T0EXT","team":"T0EXT","text":"hi","ts":"1.1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Team != "T0A" || ev.AppID != "A0B" || ev.Enterprise != "E0C" || !ev.EnterpriseInstall || ev.UserTeam != "T0EXT" {
		t.Fatalf("event: %+v", ev)
	}
	ia, err := n.Interaction([]byte(`{"type":"block_actions","api_app_id":"A0B","team":{"id":"T0A"},"enterprise":{"id":"E0C"},
		"user":{"id":"U0X","team_id":"T0X"},"actions":[{"action_id":"erp_confirm","value":"p"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Team != "T0A" || ia.AppID != "A0B" || ia.Enterprise != "E0C" || ia.UserTeam != "T0X" {
		t.Fatalf("interaction: %+v", ia)
	}
	cmd, err := n.Command(CommandFromForm(map[string][]string{"command": {"/maria"}, "team_id": {"T0A"}, "user_id": {"U0X"},
		"api_app_id": {"A0B"}, "enterprise_id": {"E0C"}, "is_enterprise_install": {"true"}}))
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Team != "T0A" || cmd.AppID != "A0B" || cmd.Enterprise != "E0C" || !cmd.EnterpriseInstall {
		t.Fatalf("command: %+v", cmd)
	}
}
