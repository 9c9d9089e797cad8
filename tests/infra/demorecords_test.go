package infra

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// demoRecords name records of the Odoo simulator's company: production
// code, configuration and the Slack manifests must not show them to a
// real workspace (suggested prompts, examples in tool descriptions, …).
var demoRecords = []string{"S00042", "Azure Interior", "Desk Combination"}

// TestNoDemoRecordOutsideTheDemo: the demo's records appear only in the
// demo (cmd/maria/demo, `maria demo`'s help), the simulators and tests.
func TestNoDemoRecordOutsideTheDemo(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case strings.HasPrefix(d.Name(), ".") && rel != ".", d.Name() == "node_modules",
				rel == "tests", rel == "cmd/maria/demo", rel == "examples":
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		production := (ext == ".go" && !strings.HasSuffix(path, "_test.go") && !strings.Contains(d.Name(), "demo")) ||
			ext == ".yaml" || ext == ".yml" || ext == ".tf" || ext == ".conf"
		if !production {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, r := range demoRecords {
			if strings.Contains(string(b), r) {
				t.Errorf("%s names the demo's record %q: production shows it to real workspaces (move it to the demo)", rel, r)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: the walk missed the repository", checked)
	}
}
