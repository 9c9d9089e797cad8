// Package deploy renders the Kubernetes overlays of infra/k8s with
// kustomize's own Go module (what `kubectl apply -k` runs) and checks what
// makes production production. Its own module: kustomize brings the
// Kubernetes API machinery, which no other module needs.
package deploy

import (
	"path/filepath"
	"runtime"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func k8sDir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "infra", "k8s")
}

// render builds an overlay (or the base with "") as kustomize build does.
func render(t *testing.T, overlay string) resmap.ResMap {
	t.Helper()
	dir := k8sDir()
	if overlay != "" {
		dir = filepath.Join(dir, "..", "overlays", overlay)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return m
}

// object is one rendered resource as plain maps.
type object map[string]any

func find(t *testing.T, m resmap.ResMap, kind, name string) object {
	t.Helper()
	for _, r := range m.Resources() {
		if r.GetKind() == kind && r.GetName() == name {
			o, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
	}
	t.Fatalf("%s %s is not rendered", kind, name)
	return nil
}

func has(m resmap.ResMap, kind, name string) bool {
	for _, r := range m.Resources() {
		if r.GetKind() == kind && r.GetName() == name {
			return true
		}
	}
	return false
}

// at walks maps and list indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			if o, ok := v.(object); ok {
				m = o
			}
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func num(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return -1
}
