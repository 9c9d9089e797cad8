package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds every function in cmd/maria (issue 15: thin commands).
// A function that long is doing more than one thing: split it.
const maxFuncLines = 60

// longFuncs lists every function (or function literal) under root whose body
// spans more than max lines, as "file:line name (N lines)".
func longFuncs(t *testing.T, root string, max int) []string {
	t.Helper()
	var long []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			name := "func literal"
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body, name = fn.Body, fn.Name.Name
			case *ast.FuncLit:
				body = fn.Body
			}
			if body == nil {
				return true
			}
			start, end := fset.Position(body.Lbrace), fset.Position(body.Rbrace)
			if lines := end.Line - start.Line - 1; lines > max {
				long = append(long, fmt.Sprintf("%s:%d %s (%d lines)", path, start.Line, name, lines))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return long
}

func TestNoFunctionLongerThan60Lines(t *testing.T) {
	for _, l := range longFuncs(t, ".", maxFuncLines) {
		t.Error(l)
	}
}

// The check itself can fail: a generated 61-line function is reported, a
// 60-line one is not.
func TestLongFuncsFindsLongFunction(t *testing.T) {
	dir := t.TempDir()
	body := func(n int) string { return strings.Repeat("\t_ = 0\n", n) }
	src := "package x\n\nfunc ok() {\n" + body(60) + "}\n\nfunc long() {\n" + body(61) + "}\n\nvar f = func() {\n" + body(61) + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got := longFuncs(t, dir, maxFuncLines)
	if len(got) != 2 || !strings.Contains(got[0], " long (61 lines)") || !strings.Contains(got[1], "func literal (61 lines)") {
		t.Fatalf("longFuncs = %q", got)
	}
}
