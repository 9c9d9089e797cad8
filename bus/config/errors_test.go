package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mariahq/maria/bus/config"
)

// Problems are listed per service, each once: the same problem found by
// two services is listed once under both names; a joined error counts as
// each of its parts; a "service: " prefix is not repeated under its name.
func TestErrorsGroupedPerServiceEachOnce(t *testing.T) {
	for _, tt := range []struct {
		name string
		fail func(env *config.Env)
		want string
	}{
		{"none", func(*config.Env) {}, ""},
		{"shared and one service", func(env *config.Env) {
			env.OneOf("MARIA_LOG_LEVEL", "info", "info", "debug")
			env.Scope("erp").Required("ODOO_URL", "Odoo")
		}, `configuration: 2 problems
  shared:
    - MARIA_LOG_LEVEL="loud": want one of info, debug
  erp:
    - ODOO_URL is required (Odoo)`},
		{"a variable two services share", func(env *config.Env) {
			env.Scope("ingress").Int("N", 1, 1, 5)
			env.Scope("egress").Int("N", 1, 1, 5)
			env.Scope("egress").Fail(errors.New("egress: SLACK_BOT_TOKEN is required"))
		}, `configuration: 2 problems
  ingress, egress:
    - N="x": want an integer in [1, 5]
  egress:
    - SLACK_BOT_TOKEN is required`},
		{"reported twice by one service", func(env *config.Env) {
			s := env.Scope("ai")
			s.Fail(errors.Join(errors.New("A is wrong"), errors.New("B is wrong")))
			s.Fail(errors.New("A is wrong"))
			s.Fail(nil)
		}, `configuration: 2 problems
  ai:
    - A is wrong
    - B is wrong`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := config.NewEnvFrom(map[string]string{"MARIA_LOG_LEVEL": "loud", "N": "x"})
			tt.fail(env)
			got := ""
			if err := env.Err(); err != nil {
				got = err.Error()
				ce, ok := config.AsErrors(fmt.Errorf("start: %w", err))
				if !ok {
					t.Fatal("Err is not a *config.Errors")
				}
				if s := ce.Summary(); strings.Contains(s, "\n") || strings.Count(s, "; ")+1 != ce.Count() {
					t.Errorf("summary is not one line of %d problems: %q", ce.Count(), s)
				}
			}
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
