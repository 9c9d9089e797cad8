package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// mariaPrefix starts the path of every module of this repository; a module's
// path is mariaPrefix + its directory (so import paths follow the tree).
const mariaPrefix = "github.com/mariahq/maria/"

// moduleLayers is the module DAG (docs/architecture.md draws it): a module
// may require only modules of a lower layer. The simulators sit beside bus
// so that the demo and the processors' tests can use them while they depend
// on nothing of Maria's but schemas; bus sits directly on schemas so that a
// processor written elsewhere gets the runtime without the services' SDKs.
var moduleLayers = map[string]int{
	"schemas":    0,
	"bus":        1,
	"tests/sim":  1,
	"ingress":    2,
	"egress":     2,
	"processors": 2,
	"cmd/maria":  3,
	"tests":      4,
	// The comparison benchmark: its own module, so the frameworks it
	// measures Maria against (Watermill) never enter the product's.
	"tests/bench/compare": 4,
	// Renders the kustomize overlays with kustomize's Go module (Kubernetes
	// API machinery that no other module needs).
	"tests/deploy": 4,
}

// goMod is what `go mod edit -json` prints that the checks need.
type goMod struct {
	Module  struct{ Path string }
	Require []modRequire
	Replace []modReplace
}

type modRequire struct{ Path string }

type modReplace struct {
	Old struct{ Path string }
	New struct{ Path, Version string }
}

// goCmd runs the go command in dir (relative to the repository root) with
// extra environment and returns its standard output.
func goCmd(t testing.TB, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join(repoRoot(t), dir)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return string(out)
}

// goMods parses the go.mod of every module of go.work, by directory.
func goMods(t testing.TB) map[string]goMod {
	t.Helper()
	_, dirs := goWork(t)
	mods := map[string]goMod{}
	for _, dir := range dirs {
		var m goMod
		if err := json.Unmarshal([]byte(goCmd(t, dir, nil, "mod", "edit", "-json")), &m); err != nil {
			t.Fatalf("%s/go.mod: %v", dir, err)
		}
		mods[dir] = m
	}
	return mods
}

// moduleGraphProblems checks the go.mod files of the repository's modules
// (by directory): each module's path follows its directory and has a layer;
// it requires Maria's modules only downwards, replaces exactly the Maria
// modules it requires (with their directories) and nothing it does not
// require; and the require graph has no cycle.
func moduleGraphProblems(mods map[string]goMod) []string {
	var problems []string
	edges := map[string][]string{}
	for _, dir := range sortedKeys(mods) {
		m := mods[dir]
		if m.Module.Path != mariaPrefix+dir {
			problems = append(problems, fmt.Sprintf("%s/go.mod: module %s, want %s", dir, m.Module.Path, mariaPrefix+dir))
		}
		layer, known := moduleLayers[dir]
		if !known {
			problems = append(problems, fmt.Sprintf("module %s has no place in the module DAG (moduleLayers)", dir))
		}
		required := map[string]bool{}
		for _, r := range m.Require {
			required[r.Path] = true
			dep, ok := strings.CutPrefix(r.Path, mariaPrefix)
			if !ok {
				continue
			}
			edges[dir] = append(edges[dir], dep)
			if l, ok := moduleLayers[dep]; known && ok && l >= layer {
				problems = append(problems, fmt.Sprintf("%s requires %s: against the module DAG (a module requires only modules below it)", dir, dep))
			}
		}
		replaced := map[string]bool{}
		for _, r := range m.Replace {
			replaced[r.Old.Path] = true
			if !required[r.Old.Path] {
				problems = append(problems, fmt.Sprintf("%s replaces %s, which it does not require", dir, r.Old.Path))
				continue
			}
			if dep, ok := strings.CutPrefix(r.Old.Path, mariaPrefix); ok {
				if want := relDir(dir, dep); strings.TrimSuffix(r.New.Path, "/") != want || r.New.Version != "" {
					problems = append(problems, fmt.Sprintf("%s replaces %s with %s, want its directory %s", dir, r.Old.Path, r.New.Path, want))
				}
			}
		}
		for _, dep := range edges[dir] {
			if !replaced[mariaPrefix+dep] {
				problems = append(problems, fmt.Sprintf("%s requires %s without replacing it by its directory", dir, dep))
			}
		}
	}
	if cycle := findCycle(edges); cycle != nil {
		problems = append(problems, "the modules' requirements form a cycle: "+strings.Join(cycle, " → "))
	}
	return problems
}

// relDir is the slash path from module directory from to module directory
// to, as a replace directive spells it ("../bus", "./sim").
func relDir(from, to string) string {
	rel, err := filepath.Rel(filepath.FromSlash(from), filepath.FromSlash(to))
	if err != nil {
		return to
	}
	// A replacement without ./ or ../ would name a module, not a directory.
	if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, "../") {
		rel = "./" + rel
	}
	return rel
}

// findCycle returns one cycle of the graph (first node repeated at the end),
// or nil.
func findCycle(edges map[string][]string) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = onPath
		stack = append(stack, n)
		for _, next := range edges[n] {
			switch state[next] {
			case onPath:
				i := len(stack) - 1
				for stack[i] != next {
					i--
				}
				return append(append([]string{}, stack[i:]...), next)
			case unseen:
				if c := visit(next); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	nodes := make([]string, 0, len(edges))
	for n := range edges {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

func TestModuleGraphIsTheDAG(t *testing.T) {
	mods := goMods(t)
	for dir := range moduleLayers {
		if _, ok := mods[dir]; !ok {
			t.Errorf("module %s of the DAG is not in go.work", dir)
		}
	}
	for _, p := range moduleGraphProblems(mods) {
		t.Error(p)
	}
}

// The checker must see what the old tree had wrong: cycles through tests,
// replaces of every sibling, simulators on top of ingress.
func TestModuleGraphCheckCatchesBadGoMods(t *testing.T) {
	mod := func(dir string, requires []string, replaces map[string]string) goMod {
		var m goMod
		m.Module.Path = mariaPrefix + dir
		for _, r := range requires {
			m.Require = append(m.Require, modRequire{Path: mariaPrefix + r})
		}
		for old, dir := range replaces {
			var r modReplace
			r.Old.Path, r.New.Path = mariaPrefix+old, dir
			m.Replace = append(m.Replace, r)
		}
		return m
	}
	good := func() map[string]goMod {
		return map[string]goMod{
			"schemas":    mod("schemas", nil, nil),
			"bus":        mod("bus", []string{"schemas"}, map[string]string{"schemas": "../schemas"}),
			"tests/sim":  mod("tests/sim", []string{"schemas"}, map[string]string{"schemas": "../../schemas"}),
			"processors": mod("processors", []string{"schemas", "bus", "tests/sim"}, map[string]string{"schemas": "../schemas", "bus": "../bus", "tests/sim": "../tests/sim"}),
			"tests":      mod("tests", []string{"schemas", "bus", "processors", "tests/sim"}, map[string]string{"schemas": "../schemas", "bus": "../bus", "processors": "../processors", "tests/sim": "./sim"}),
		}
	}
	if p := moduleGraphProblems(good()); len(p) != 0 {
		t.Fatalf("a good graph has problems: %q", p)
	}
	for _, c := range []struct {
		name, want string
		spoil      func(map[string]goMod)
	}{
		{"processors requires tests", "cycle: processors → tests → processors", func(m map[string]goMod) {
			m["processors"] = mod("processors", []string{"schemas", "bus", "tests"}, map[string]string{"schemas": "../schemas", "bus": "../bus", "tests": "../tests"})
		}},
		{"bus replaces a sibling it does not use", "bus replaces github.com/mariahq/maria/ingress, which it does not require", func(m map[string]goMod) {
			m["bus"] = mod("bus", []string{"schemas"}, map[string]string{"schemas": "../schemas", "ingress": "../ingress"})
		}},
		{"simulators import ingress", "tests/sim requires ingress: against the module DAG", func(m map[string]goMod) {
			m["tests/sim"] = mod("tests/sim", []string{"schemas", "ingress"}, map[string]string{"schemas": "../../schemas", "ingress": "../../ingress"})
		}},
		{"a requirement without its replace", "bus requires schemas without replacing it", func(m map[string]goMod) {
			m["bus"] = mod("bus", []string{"schemas"}, nil)
		}},
		{"a replace to the wrong directory", "want its directory ./sim", func(m map[string]goMod) {
			for i, r := range m["tests"].Replace {
				if r.Old.Path == mariaPrefix+"tests/sim" {
					m["tests"].Replace[i].New.Path = "../tests/sim"
				}
			}
		}},
		{"a module outside the DAG", "module tools has no place in the module DAG", func(m map[string]goMod) {
			m["tools"] = mod("tools", []string{"schemas"}, map[string]string{"schemas": "../schemas"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mods := good()
			c.spoil(mods)
			p := moduleGraphProblems(mods)
			if !strings.Contains(strings.Join(p, "\n"), c.want) {
				t.Errorf("problems %q, want one saying %q", p, c.want)
			}
		})
	}
}
