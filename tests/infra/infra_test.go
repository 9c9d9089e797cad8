// Package infra checks the shipping files in infra/ and .github/ that no
// tool on a developer machine can apply (no container engine, no cluster, no
// AWS): they are parsed and their promised properties asserted, so a change
// that breaks one fails `make test`.
package infra

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// notDeployed are registered services that production does not run: the
// example processor only demonstrates the SDK.
var notDeployed = map[string]string{
	"example": "demonstrates writing a processor; not part of production",
}

// repoRoot finds the directory holding go.work above the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found above the test directory")
		}
		dir = parent
	}
}

func readFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{repoRoot(t)}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeYAMLDocs decodes every document of a multi-document YAML stream.
// Empty documents (a lone "---") are skipped.
func decodeYAMLDocs(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for i := 0; ; i++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(node.Content) == 0 {
			continue
		}
		var m map[string]any
		if err := node.Decode(&m); err != nil {
			return nil, fmt.Errorf("document %d: want a mapping at the top: %w", i+1, err)
		}
		if m != nil {
			docs = append(docs, m)
		}
	}
}

func loadYAML(t testing.TB, parts ...string) []map[string]any {
	t.Helper()
	docs, err := decodeYAMLDocs(readFile(t, parts...))
	if err != nil {
		t.Fatalf("%s: %v", filepath.Join(parts...), err)
	}
	return docs
}

// get walks a path of map keys and list indexes ("spec", "template", 0, ...).
func get(v any, path ...any) (any, bool) {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil, false
			}
			v = l[k]
		default:
			panic(fmt.Sprintf("get: bad path element %T", p))
		}
	}
	return v, true
}

func str(v any, path ...any) string {
	x, ok := get(v, path...)
	if !ok || x == nil {
		return ""
	}
	switch s := x.(type) {
	case string:
		return s
	case int:
		return strconv.Itoa(s)
	case bool:
		return strconv.FormatBool(s)
	default:
		return fmt.Sprint(s)
	}
}

func list(v any, path ...any) []any {
	x, _ := get(v, path...)
	l, _ := x.([]any)
	return l
}

func strs(v any, path ...any) []string {
	var out []string
	for _, x := range list(v, path...) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// registeredServices parses cmd/maria/app for Register("name", ...) and
// RegisterConfigured("name", ...) calls:
// the names `maria run <name>` accepts.
func registeredServices(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "cmd", "maria", "app")
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if fd, ok := n.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "Register") {
				return false // the registry's own functions, not registrations
			}
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || (id.Name != "Register" && id.Name != "RegisterConfigured") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: Register with a non-literal name; tests/infra cannot check it", fset.Position(call.Pos()))
				return true
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			seen[name] = true
			return true
		})
	}
	if len(seen) == 0 {
		t.Fatalf("no Register(\"name\", ...) calls found in %s", dir)
	}
	return sortedKeys(seen)
}

// deployedServices are the registered services production runs.
func deployedServices(t testing.TB) []string {
	var out []string
	for _, s := range registeredServices(t) {
		if _, skip := notDeployed[s]; !skip {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// diffSets says what is missing from got and what is extra in it.
func diffSets(want, got []string) (missing, extra []string) {
	w, g := setOf(want...), setOf(got...)
	for _, x := range want {
		if !g[x] {
			missing = append(missing, x)
		}
	}
	for _, x := range got {
		if !w[x] {
			extra = append(extra, x)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}
