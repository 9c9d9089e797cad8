package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/mariahq/maria/bus/config"
)

func TestSelectedServices(t *testing.T) {
	defaults := DefaultServices()
	if slices.Contains(defaults, "example") || !slices.Contains(Services(), "example") {
		t.Fatalf("defaults %v, registered %v: the example must be registered and off by default", defaults, Services())
	}
	cases := []struct {
		names []string
		env   string
		want  []string
		bad   bool
	}{
		{nil, "", defaults, false},
		{[]string{"example"}, "ai", []string{"example"}, false},
		{nil, "ai, example", []string{"ai", "example"}, false},
		{nil, "default,example", append(slices.Clone(defaults), "example"), false},
		{nil, " , ", nil, true},
	}
	for _, c := range cases {
		env := config.NewEnvFrom(map[string]string{"MARIA_SERVICES": c.env})
		got := selected(c.names, env)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !c.bad && strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("names %v MARIA_SERVICES=%q: %v, want %v", c.names, c.env, got, want)
		}
		if (env.Err() != nil) != c.bad {
			t.Errorf("MARIA_SERVICES=%q: error %v, want error %v", c.env, env.Err(), c.bad)
		}
	}
}
