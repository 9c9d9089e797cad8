package infra

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestYAMLFilesParse parses every YAML file under infra/ and .github/ (all
// documents of multi-document files): syntax errors, duplicate keys and
// non-mapping documents fail.
func TestYAMLFilesParse(t *testing.T) {
	root := repoRoot(t)
	var files []string
	for _, dir := range []string{"infra", ".github"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".terraform") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The files this issue ships must be among them (a walk that finds
	// nothing must not pass).
	for _, must := range []string{
		"infra/docker/compose.yaml", "infra/k8s/kustomization.yaml", "infra/k8s/nats-values.yaml",
		"infra/slack/manifest.yaml", "infra/slack/manifest-socket-mode.yaml",
		".github/workflows/ci.yml", ".github/workflows/image.yml", ".github/workflows/release.yml",
	} {
		found := false
		for _, f := range files {
			if filepath.ToSlash(strings.TrimPrefix(f, root+string(filepath.Separator))) == must {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is missing", must)
		}
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		docs := loadYAML(t, rel)
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", rel)
		}
	}
	t.Logf("parsed %d YAML files", len(files))
}

func TestDecodeYAMLDocsRejectsBadInput(t *testing.T) {
	for name, in := range map[string]string{
		"duplicate key": "a: 1\na: 2\n",
		"bad indent":    "a:\n  b: 1\n c: 2\n",
		"tab":           "a:\n\tb: 1\n",
		"not a mapping": "- a\n- b\n",
		"second doc":    "a: 1\n---\nb: [1, 2\n",
	} {
		if _, err := decodeYAMLDocs([]byte(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
	docs, err := decodeYAMLDocs([]byte("---\na: 1\n---\n---\nb: 2\n"))
	if err != nil || len(docs) != 2 {
		t.Fatalf("multi-document stream: %d docs, %v", len(docs), err)
	}
}
