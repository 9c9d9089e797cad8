package infra

import (
	"strings"
	"testing"
)

// The shipped binary links the simulators (the demo and `maria chat` run on
// them) but no other code under tests/: test helpers are not product.
func TestBinaryLinksNoTestCodeButTheSimulators(t *testing.T) {
	out := goCmd(t, ".", nil, "list", "-deps", "-f", "{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}", "./cmd/maria")
	sawBus := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		pkg, mod, _ := strings.Cut(line, " ")
		sawBus = sawBus || mod == mariaPrefix+"bus"
		if strings.HasPrefix(pkg, mariaPrefix+"tests/") && mod != mariaPrefix+"tests/sim" {
			t.Errorf("cmd/maria links %s (module %s): only the simulators' module may ship from tests/", pkg, mod)
		}
	}
	if !sawBus {
		t.Fatalf("go list -deps ./cmd/maria does not list bus: the output is not what the test expects:\n%s", out)
	}
}

// forbiddenForSDK are what a processor written in another repository must
// not pull in when it gets schemas and bus: the services' SDKs and Maria's
// test code (simulators included).
var forbiddenForSDK = []string{
	"github.com/aws/",
	"github.com/sashabaranov/go-openai",
	"github.com/slack-go/slack",
	mariaPrefix + "tests",
	mariaPrefix + "ingress", mariaPrefix + "egress", mariaPrefix + "processors", mariaPrefix + "cmd",
}

func forbiddenFor(dep string) string {
	for _, f := range forbiddenForSDK {
		if strings.HasPrefix(dep, f) {
			return f
		}
	}
	return ""
}

// schemas and bus build on their own (GOWORK=off: as another repository sees
// them) and neither their packages nor their go.mod requirements reach an
// SDK of a service or the simulators.
func TestSchemasAndBusPullNoServiceSDK(t *testing.T) {
	mods := goMods(t)
	for _, dir := range []string{"schemas", "bus"} {
		for _, r := range mods[dir].Require {
			if f := forbiddenFor(r.Path); f != "" {
				t.Errorf("%s/go.mod requires %s (%s…): `go get` of %s would pull it", dir, r.Path, f, dir)
			}
		}
		out := goCmd(t, dir, []string{"GOWORK=off"}, "list", "-deps", "-f", "{{.ImportPath}}", "./...")
		pkgs := strings.Fields(out)
		if !contains(pkgs, mariaPrefix+dir) {
			t.Fatalf("go list -deps in %s does not list %s itself:\n%s", dir, mariaPrefix+dir, out)
		}
		for _, p := range pkgs {
			if f := forbiddenFor(p); f != "" {
				t.Errorf("%s links %s (%s…)", dir, p, f)
			}
		}
	}
}

// `make test` and `make lint` cover every module: a module missing from
// MODULES would be neither tested nor linted (patterns like ./tests/... do
// not descend into a nested module).
func TestMakefileCoversEveryModule(t *testing.T) {
	_, mods := goWork(t)
	mf := parseMakefile(string(readFile(t, "Makefile")))
	listed, err := mf.expand("$(MODULES)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if missing, extra := diffSets(mods, strings.Fields(listed)); len(missing)+len(extra) > 0 {
		t.Errorf("Makefile MODULES: missing %v, not in go.work %v", missing, extra)
	}
}
