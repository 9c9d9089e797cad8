package infra

import (
	"strings"

	"github.com/mariahq/maria/bus/natsconn"
)

// passwordVars are the prefixes of the password variables of infra/nats
// (OPERATOR for $OPERATOR_PASSWORD, …): one per NATS user of Maria, so a
// processor added by `maria new processor` is checked with no test edit,
// plus the server's own (extra: SYS, ROUTE).
func passwordVars(extra ...string) []string {
	var out []string
	for _, u := range natsconn.Users() {
		out = append(out, strings.ToUpper(u))
	}
	return append(out, extra...)
}
