package security

import (
	"slices"
	"testing"

	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/tests/natsconf"
)

// TestAccountsConfMatchesEmbeddedPermissions: the users of
// infra/nats/accounts.conf (external servers) and of the embedded server
// (natsconn.Permissions) are the same, with identical permissions.
func TestAccountsConfMatchesEmbeddedPermissions(t *testing.T) {
	conf, err := natsconf.Users(repoFile("infra", "nats", "nats-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range conf {
		names = append(names, n)
	}
	slices.Sort(names)
	want := slices.Clone(natsconn.Users())
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("accounts.conf users %v, natsconn.Users() %v", names, want)
	}
	for _, user := range natsconn.Users() {
		goPerms, _ := natsconn.Permissions(user)
		for _, d := range natsconf.Diff("accounts.conf", conf[user], "bus", goPerms) {
			t.Errorf("%s: %s", user, d)
		}
	}
}
