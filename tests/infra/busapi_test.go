package infra

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// busRuntimeMaxExported bounds the names package bus exports: the
// processor authors' API and runtime (Processor, Handler, Msg, Run, the
// Retry/Permanent errors, dead letters, Service/Deps, Bus and Connect) —
// 24 when the runtime was split out of the kitchen sink. Connecting,
// configuration, telemetry, health and KV state have packages of their own
// (docs/architecture.md); a name that belongs there must not creep back.
const busRuntimeMaxExported = 26

// exportedVarProblems lists the exported package-level variables of files:
// state anyone could replace. Sentinel errors are the one exception, as in
// the standard library: an `Err…` variable set with errors.New (callers
// compare with errors.Is; nobody has a reason to assign them).
func exportedVarProblems(fset *token.FileSet, files []*ast.File) []string {
	var out []string
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() || isSentinelError(name.Name, vs, i) {
						continue
					}
					out = append(out, fset.Position(name.Pos()).String()+": exported variable "+name.Name)
				}
			}
		}
	}
	return out
}

// isSentinelError reports whether the i-th name of vs is `ErrX = errors.New(…)`.
func isSentinelError(name string, vs *ast.ValueSpec, i int) bool {
	if !strings.HasPrefix(name, "Err") || i >= len(vs.Values) {
		return false
	}
	call, ok := vs.Values[i].(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "errors" && sel.Sel.Name == "New"
}

// exportedNames lists the package-level names files export (functions,
// types, constants, variables; not methods).
func exportedNames(files []*ast.File) []string {
	var out []string
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					out = append(out, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							out = append(out, s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								out = append(out, n.Name)
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// busSources parses the non-test Go files of the bus module, or of
// package bus alone (onlyTop).
func busSources(t *testing.T, onlyTop bool) (*token.FileSet, []*ast.File) {
	t.Helper()
	root := filepath.Join(repoRoot(t), "bus")
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if onlyTop && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Go files under bus/")
	}
	return fset, files
}

// No package of the bus module exports a variable (but sentinel errors):
// what a service needs comes through functions and methods, so no service
// or test can swap the runtime's behaviour for the whole process.
func TestBusExportsNoMutableGlobals(t *testing.T) {
	fset, files := busSources(t, false)
	for _, p := range exportedVarProblems(fset, files) {
		t.Error(p)
	}
}

// Package bus stays the small processor API; the rest of the runtime lives
// in bus/natsconn, bus/config, bus/telemetry, bus/health and bus/kv.
func TestBusPackageStaysSmall(t *testing.T) {
	_, files := busSources(t, true)
	names := exportedNames(files)
	if len(names) > busRuntimeMaxExported {
		t.Errorf("package bus exports %d names, at most %d: %s", len(names), busRuntimeMaxExported, strings.Join(names, ", "))
	}
	for _, want := range []string{"Processor", "Handler", "Msg", "Run", "Permanent", "Retry", "RetryAfter", "Bus", "Connect"} {
		if i := sort.SearchStrings(names, want); i == len(names) || names[i] != want {
			t.Errorf("package bus does not export %s", want)
		}
	}
}

// The checks above can fail.
func TestBusAPIChecksCatchViolations(t *testing.T) {
	src := `package x
import "errors"
var ErrGone = errors.New("gone")
var ErrWrapped = fmt.Errorf("x")
var Hook = func() {}
var internal = 1
var (
	Users = []string{"a"}
	errQuiet = errors.New("q")
)
type T struct{}
func (T) Method() {}
func F() {}
const C = 1
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range exportedVarProblems(fset, []*ast.File{f}) {
		got = append(got, p[strings.LastIndex(p, " ")+1:])
	}
	if strings.Join(got, ",") != "ErrWrapped,Hook,Users" {
		t.Errorf("flagged %v, want ErrWrapped, Hook and Users", got)
	}
	if n := exportedNames([]*ast.File{f}); strings.Join(n, ",") != "C,ErrGone,ErrWrapped,F,Hook,T,Users" {
		t.Errorf("exported names %v", n)
	}
}
