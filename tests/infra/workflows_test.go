package infra

import (
	"strings"
	"testing"
)

// steps returns every step of every job of a workflow.
func steps(wf map[string]any) []any {
	var out []any
	jobs, _ := wf["jobs"].(map[string]any)
	for _, j := range jobs {
		out = append(out, list(j, "steps")...)
	}
	return out
}

// on returns the workflow's triggers (yaml.v3 reads the key `on` as a string).
func on(wf map[string]any) map[string]any {
	m, _ := wf["on"].(map[string]any)
	return m
}

// TestWorkflows: CI runs .ci/run (the single source of what is tested); the
// image is built from infra/docker/Dockerfile and pushed on main; releases
// build with the Makefile for linux/darwin × amd64/arm64.
func TestWorkflows(t *testing.T) {
	ci := loadYAML(t, ".github", "workflows", "ci.yml")[0]
	var runs []string
	for _, s := range steps(ci) {
		runs = append(runs, str(s, "run"))
	}
	if !contains(runs, "bash .ci/run") {
		t.Errorf("ci.yml runs %q, want a step `bash .ci/run`", runs)
	}
	for _, r := range runs {
		if strings.Contains(r, "go test") || strings.Contains(r, "make test") {
			t.Errorf("ci.yml runs tests itself (%q): .ci/run is the single source", r)
		}
	}
	if _, pr := on(ci)["pull_request"]; !pr || on(ci)["push"] == nil {
		t.Error("ci.yml does not run on push and pull_request")
	}

	img := loadYAML(t, ".github", "workflows", "image.yml")[0]
	if !contains(strs(on(img), "push", "branches"), "main") {
		t.Error("image.yml does not run on pushes to main")
	}
	var build any
	for _, s := range steps(img) {
		if strings.HasPrefix(str(s, "uses"), "docker/build-push-action@") {
			build = s
		}
	}
	if build == nil {
		t.Fatal("image.yml has no docker/build-push-action step")
	}
	if str(build, "with", "file") != "infra/docker/Dockerfile" || str(build, "with", "push") != "true" {
		t.Errorf("build-push-action: file %q push %q", str(build, "with", "file"), str(build, "with", "push"))
	}
	if !strings.Contains(str(build, "with", "tags"), "steps.meta.outputs.tags") && !strings.Contains(str(build, "with", "tags"), "ghcr.io/") {
		t.Error("image tags do not go to GHCR")
	}
	if str(img, "permissions", "packages") != "write" {
		t.Error("image.yml lacks packages: write (GHCR push)")
	}

	rel := loadYAML(t, ".github", "workflows", "release.yml")[0]
	if !contains(strs(on(rel), "push", "tags"), "v*") {
		t.Error("release.yml does not run on v* tags")
	}
	jobs, _ := rel["jobs"].(map[string]any)
	matrix, _ := get(jobs["build"], "strategy", "matrix")
	if strings.Join(strs(matrix, "goos"), ",") != "linux,darwin" || strings.Join(strs(matrix, "goarch"), ",") != "amd64,arm64" {
		t.Errorf("release matrix %v, want goos linux,darwin × goarch amd64,arm64", matrix)
	}
	usesMake := false
	for _, s := range list(jobs["build"], "steps") {
		r := str(s, "run")
		if strings.HasPrefix(strings.TrimSpace(r), "make build") {
			usesMake = true
			if str(s, "env", "GOOS") == "" || str(s, "env", "GOARCH") == "" {
				t.Error("make build step does not set GOOS/GOARCH from the matrix")
			}
		}
		if strings.Contains(r, "go build") {
			t.Errorf("release builds with its own go build (%q): use make build so flags match", r)
		}
	}
	if !usesMake {
		t.Error("release.yml does not build with `make build` (the Makefile's flags)")
	}
}
