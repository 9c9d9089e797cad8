package infra

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mariahq/maria/schemas"
)

// envName is what an environment variable Maria's code reads looks like:
// its own prefix, or that of a service whose SDK variables Maria reads itself.
var envName = regexp.MustCompile(`^(MARIA|SLACK|OPENAI|ODOO|NATS|OTEL|AWS)_[A-Z0-9_]+$`)

// productModules hold the code that ends up in the binary (the simulators
// included: the demo ships them). tests and tests/bench/compare read
// variables of their own (CHAOS_*, BENCH_*), documented where they are used.
var productModules = []string{"schemas", "bus", "ingress", "egress", "processors", "cmd/maria", "tests/sim"}

// readByLibrary are documented variables no Maria code names because a
// library reads them itself; each says which.
var readByLibrary = map[string]string{
	"OTEL_TRACES_SAMPLER":     "the OpenTelemetry SDK's tracer provider (bus/telemetry sets no sampler)",
	"OTEL_TRACES_SAMPLER_ARG": "the OpenTelemetry SDK's tracer provider (bus/telemetry sets no sampler)",
	"OTEL_SERVICE_NAME":       "the OpenTelemetry SDK's resource.WithFromEnv in bus/telemetry",
}

// TestEveryEnvironmentVariableIsDocumented holds README's configuration
// tables (the tables whose first column is "variable") to the code: every
// variable the product's code names has a row, with a default, and every row
// names a variable the code still reads.
func TestEveryEnvironmentVariableIsDocumented(t *testing.T) {
	root := repoRoot(t)
	inCode := codeEnvVars(t, root)
	rows := readmeEnvRows(t, filepath.Join(root, "README.md"))
	if len(inCode) < 50 || len(rows) < 50 {
		t.Fatalf("found %d variables in the code and %d README rows: the scan or the table parsing is broken", len(inCode), len(rows))
	}
	for _, p := range envDocProblems(inCode, rows) {
		t.Error(p)
	}
}

// envDocProblems compares the variables the code names (name → where) with
// README's rows (name → default cell).
func envDocProblems(inCode map[string]string, rows map[string]string) []string {
	var problems []string
	for name, where := range inCode {
		def, ok := rows[name]
		switch {
		case !ok:
			problems = append(problems, name+" is read ("+where+") but has no row in README's configuration tables")
		case strings.TrimSpace(def) == "":
			problems = append(problems, name+": its README row gives no default (write — when there is none)")
		}
	}
	for name := range rows {
		if _, ok := inCode[name]; !ok && readByLibrary[name] == "" {
			problems = append(problems, name+" has a README row but no code reads it any more")
		}
	}
	sort.Strings(problems)
	return problems
}

// codeEnvVars collects the string literals shaped like a variable name in
// the product's non-test Go files, with one place each is named. Stream
// names share the MARIA_ prefix and are left out; so are test helper
// packages (…test directories), which read test-only switches.
func codeEnvVars(t *testing.T, root string) map[string]string {
	t.Helper()
	streams := map[string]bool{}
	for _, s := range schemas.Streams {
		streams[s.Name] = true
	}
	found := map[string]string{}
	for _, mod := range productModules {
		err := filepath.WalkDir(filepath.Join(root, mod), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if name := d.Name(); name == "testdata" || name == "node_modules" || (strings.HasSuffix(name, "test") && path != filepath.Join(root, mod)) {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err == nil && envName.MatchString(s) && !streams[s] {
					if _, seen := found[s]; !seen {
						found[s] = rel
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatalf("scanning %s: %v", mod, err)
		}
	}
	return found
}

// readmeEnvRows reads every Markdown table whose header's first cell is
// "variable" and returns each variable named (in backticks) in a row's first
// cell with that row's default cell.
func readmeEnvRows(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return parseEnvTables(lines)
}

var backticked = regexp.MustCompile("`([^`]+)`")

func parseEnvTables(lines []string) map[string]string {
	rows := map[string]string{}
	inTable := false
	for _, line := range lines {
		cells := tableCells(line)
		switch {
		case cells == nil:
			inTable = false
		case !inTable:
			inTable = strings.EqualFold(cells[0], "variable")
		case strings.Trim(cells[0], "-: ") == "":
			// the header's separator row
		default:
			def := ""
			if len(cells) > 1 {
				def = cells[1]
			}
			for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
				if envName.MatchString(m[1]) {
					rows[m[1]] = def
				}
			}
		}
	}
	return rows
}

// tableCells splits a Markdown table row; nil when the line is not one.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") {
		return nil
	}
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func TestEnvDocProblems(t *testing.T) {
	table := []string{
		"| variable | default | meaning |",
		"|---|---|---|",
		"| `MARIA_A` / `MARIA_B` | `1` / `2` | two at once |",
		"| `MARIA_GONE` | `x` | no longer read |",
		"| `MARIA_NODEF` |  | no default |",
		"",
		"| metric | type |",
		"|---|---|",
		"| `MARIA_NOT_A_ROW` | counter |",
	}
	rows := parseEnvTables(table)
	if len(rows) != 4 || rows["MARIA_B"] != "`1` / `2`" {
		t.Fatalf("parsed rows %v", rows)
	}
	code := map[string]string{"MARIA_A": "a.go", "MARIA_B": "b.go", "MARIA_NODEF": "c.go", "MARIA_NEW": "d.go"}
	got := envDocProblems(code, rows)
	want := []string{
		"MARIA_GONE has a README row but no code reads it any more",
		"MARIA_NEW is read (d.go) but has no row in README's configuration tables",
		"MARIA_NODEF: its README row gives no default (write — when there is none)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
