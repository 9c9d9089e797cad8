package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mariahq/maria/bus/config"
)

// optIn lists registered services that run only when named: `maria run`
// without names starts the others.
var optIn = map[string]bool{}

// OptIn marks a registered service as off unless asked for (called from
// init, after Register).
func OptIn(name string) {
	regMu.Lock()
	defer regMu.Unlock()
	optIn[name] = true
}

// DefaultServices are the registered services `maria run` starts when none
// is named and MARIA_SERVICES is unset: all but the opt-in ones.
func DefaultServices() []string {
	var out []string
	for _, n := range Services() {
		regMu.Lock()
		skip := optIn[n]
		regMu.Unlock()
		if !skip {
			out = append(out, n)
		}
	}
	return out
}

// selected is what Start runs: the names given, else MARIA_SERVICES (a
// comma-separated list; "default" stands for DefaultServices, so
// "default,example" adds the example), else DefaultServices.
func selected(names []string, env *config.Env) []string {
	if len(names) > 0 {
		return names
	}
	list := env.String("MARIA_SERVICES", "")
	if strings.TrimSpace(list) == "" {
		return DefaultServices()
	}
	var out []string
	for _, n := range strings.Split(list, ",") {
		switch n = strings.TrimSpace(n); n {
		case "":
		case "default":
			out = append(out, DefaultServices()...)
		default:
			out = append(out, n)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		env.Fail(fmt.Errorf("MARIA_SERVICES=%q names no service", list))
	}
	return out
}
