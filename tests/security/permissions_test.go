package security

import (
	"slices"
	"testing"

	"github.com/mariahq/maria/bus"
	"github.com/nats-io/nats-server/v2/server"
)

// TestAccountsConfMatchesEmbeddedPermissions: the users of
// infra/nats/accounts.conf (external servers) and of the embedded server
// (bus.NATSPermissions) are the same, with identical permissions.
func TestAccountsConfMatchesEmbeddedPermissions(t *testing.T) {
	opts, err := server.ProcessConfigFile(repoFile("infra", "nats", "nats-server.conf"))
	if err != nil {
		t.Fatalf("infra/nats/nats-server.conf: %v", err)
	}
	conf := map[string]*server.Permissions{}
	for _, u := range opts.Users {
		if u.Account != nil && u.Account.Name == "MARIA" {
			conf[u.Username] = u.Permissions
		}
	}
	var names []string
	for n := range conf {
		names = append(names, n)
	}
	slices.Sort(names)
	want := slices.Clone(bus.NATSUsers)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("accounts.conf users %v, bus.NATSUsers %v", names, want)
	}
	for _, user := range bus.NATSUsers {
		goPerms, _ := bus.NATSPermissions(user)
		for _, d := range diffPermissions(conf[user], goPerms) {
			t.Errorf("%s: %s", user, d)
		}
	}
}

// diffPermissions lists how two users' permissions differ (order of the
// subjects aside); a and b are from accounts.conf and bus respectively.
func diffPermissions(a, b *server.Permissions) []string {
	if a == nil || b == nil {
		if a != b {
			return []string{"one side restricts the user, the other does not"}
		}
		return nil
	}
	var out []string
	out = append(out, diffSubjects("publish", a.Publish, b.Publish)...)
	out = append(out, diffSubjects("subscribe", a.Subscribe, b.Subscribe)...)
	switch {
	case (a.Response == nil) != (b.Response == nil):
		out = append(out, "allow_responses set on one side only")
	case a.Response != nil && *a.Response != *b.Response:
		out = append(out, "allow_responses differ")
	}
	return out
}

func diffSubjects(what string, a, b *server.SubjectPermission) []string {
	if a == nil {
		a = &server.SubjectPermission{}
	}
	if b == nil {
		b = &server.SubjectPermission{}
	}
	var out []string
	for _, kind := range []struct {
		name string
		a, b []string
	}{{"allow", a.Allow, b.Allow}, {"deny", a.Deny, b.Deny}} {
		for _, s := range kind.a {
			if !slices.Contains(kind.b, s) {
				out = append(out, what+" "+kind.name+" "+s+": in accounts.conf only")
			}
		}
		for _, s := range kind.b {
			if !slices.Contains(kind.a, s) {
				out = append(out, what+" "+kind.name+" "+s+": in bus only")
			}
		}
	}
	return out
}
