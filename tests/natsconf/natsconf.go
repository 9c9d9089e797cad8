// Package natsconf reads the NATS users out of Maria's server
// configurations (infra/nats, the Helm values) so tests can prove they
// grant the same permissions as the embedded server (natsconn.Permissions).
package natsconf

import (
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"
)

// Account is the account holding Maria's streams and users.
const Account = "MARIA"

// Users parses the server configuration at path and returns the
// permissions of each user of Account, by user name (password users) or
// by public key (nkey users). Variables the file references must be set.
func Users(path string) (map[string]*server.Permissions, error) {
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]*server.Permissions{}
	for _, u := range opts.Users {
		if u.Account != nil && u.Account.Name == Account {
			out[u.Username] = u.Permissions
		}
	}
	for _, u := range opts.Nkeys {
		if u.Account != nil && u.Account.Name == Account {
			out[u.Nkey] = u.Permissions
		}
	}
	return out, nil
}

// Diff lists how two users' permissions differ, the order of subjects
// aside; a is named aName and b bName in the findings.
func Diff(aName string, a *server.Permissions, bName string, b *server.Permissions) []string {
	if a == nil || b == nil {
		if a != b {
			return []string{"one side restricts the user, the other does not"}
		}
		return nil
	}
	var out []string
	out = append(out, diffSubjects("publish", aName, a.Publish, bName, b.Publish)...)
	out = append(out, diffSubjects("subscribe", aName, a.Subscribe, bName, b.Subscribe)...)
	switch {
	case (a.Response == nil) != (b.Response == nil):
		out = append(out, "allow_responses set on one side only")
	case a.Response != nil && *a.Response != *b.Response:
		out = append(out, fmt.Sprintf("allow_responses %+v in %s, %+v in %s", *a.Response, aName, *b.Response, bName))
	}
	return out
}

func diffSubjects(what, aName string, a *server.SubjectPermission, bName string, b *server.SubjectPermission) []string {
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
				out = append(out, fmt.Sprintf("%s %s %s: in %s only", what, kind.name, s, aName))
			}
		}
		for _, s := range kind.b {
			if !slices.Contains(kind.a, s) {
				out = append(out, fmt.Sprintf("%s %s %s: in %s only", what, kind.name, s, bName))
			}
		}
	}
	return out
}
