package scaffold

import (
	"fmt"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// accountsBlock renders a user's permissions the way infra/nats/accounts.conf
// writes them: NAME_PERMISSIONS = { publish: { allow: [...] } ... }.
func accountsBlock(user string, p *server.Permissions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s_PERMISSIONS = {\n", strings.ToUpper(user))
	if p.Publish != nil {
		b.WriteString("  publish: {\n    allow: [\n")
		for _, s := range p.Publish.Allow {
			fmt.Fprintf(&b, "      %q\n", s)
		}
		b.WriteString("    ]\n  }\n")
	}
	if p.Subscribe != nil {
		quoted := make([]string, len(p.Subscribe.Allow))
		for i, s := range p.Subscribe.Allow {
			quoted[i] = fmt.Sprintf("%q", s)
		}
		fmt.Fprintf(&b, "  subscribe: { allow: [%s] }\n", strings.Join(quoted, ", "))
	}
	if p.Response != nil {
		fmt.Fprintf(&b, "  allow_responses: { max: %d, expires: %q }\n", p.Response.MaxMsgs, p.Response.Expires.String())
	}
	b.WriteString("}\n")
	return b.String()
}

// helmUser renders a user for the users list of infra/k8s/nats-values.yaml
// (config.merge.accounts.MARIA.users), indented as that list is.
func helmUser(user string, p *server.Permissions) string {
	const in = "          "
	var b strings.Builder
	fmt.Fprintf(&b, "%s- nkey: << $%s_NKEY >>\n%s  permissions:\n", in, strings.ToUpper(user), in)
	list := func(what string, subjects []string) {
		fmt.Fprintf(&b, "%s    %s:\n%s      allow:\n", in, what, in)
		for _, s := range subjects {
			fmt.Fprintf(&b, "%s        - %q\n", in, s)
		}
	}
	if p.Publish != nil {
		list("publish", p.Publish.Allow)
	}
	if p.Subscribe != nil {
		list("subscribe", p.Subscribe.Allow)
	}
	if p.Response != nil {
		fmt.Fprintf(&b, "%s    allow_responses:\n%s      max: %d\n%s      expires: %s\n", in, in, p.Response.MaxMsgs, in, p.Response.Expires)
	}
	return b.String()
}
