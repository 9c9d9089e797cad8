package scaffold

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"weather": true, "crm2": true,
		"": false, "w": false, "Weather": false, "my-proc": false, "my_proc": false, "2fa": false,
		"func": false, "operator": false, "default": false, "ai": false, "example": false, "clock": false,
		strings.Repeat("a", 31): false,
	} {
		if err := checkName(name); (err == nil) != ok {
			t.Errorf("checkName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestInsertAt(t *testing.T) {
	in := []byte("a\n  # maria new processor: users\nb\n")
	got, err := insertAt(in, "f", marker("users"), "  x\n")
	if err != nil || string(got) != "a\n  x\n  # maria new processor: users\nb\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := insertAt([]byte("a\n"), "f", marker("users"), "x\n"); !errors.Is(err, errMarker) {
		t.Errorf("missing marker: %v", err)
	}
	twice := []byte("# maria new processor: users\n# maria new processor: users\n")
	if _, err := insertAt(twice, "f", marker("users"), "x\n"); !errors.Is(err, errMarker) {
		t.Errorf("repeated marker: %v", err)
	}
}

// TestProcessorRefusesAndChangesNothing: a taken name or a lost marker is
// refused before any file is written.
func TestProcessorRefusesAndChangesNothing(t *testing.T) {
	root := t.TempDir()
	write(t, root, "go.work", "go 1.26\n")
	write(t, root, "processors/weather/weather.go", "package weather\n")
	if _, err := Processor(root, "weather"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("an existing processor: %v", err)
	}
	if _, err := Processor(root, "radar"); err == nil {
		t.Fatal("a tree without the shared files was accepted")
	}
	if exists(root, "processors/radar") || exists(root, "cmd/maria/app/svc_radar.go") {
		t.Fatal("a refused run wrote files")
	}
	if _, err := Processor(t.TempDir(), "radar"); err == nil || !strings.Contains(err.Error(), "go.work") {
		t.Fatalf("outside the repository: %v", err)
	}
}

// TestGeneratedProcessorBuildsAndPassesInfraTests generates a processor in a
// copy of the repository, then builds, vets and tests it there with the
// infrastructure and NATS-permission suites: the promise of `maria new
// processor` is that the tree is green right after.
func TestGeneratedProcessorBuildsAndPassesInfraTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a copy of the repository")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dst := t.TempDir()
	copyTree(t, repoRoot(t), dst)
	res, err := Processor(dst, "weather")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 4 || len(res.Edited) < 8 {
		t.Fatalf("created %v, edited %v", res.Created, res.Edited)
	}
	if _, err := Processor(dst, "weather"); err == nil {
		t.Fatal("a second run overwrote the processor")
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dst
		cmd.Env = append(os.Environ(), "GOWORK=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("build", "./cmd/maria/...", "./processors/...", "./bus/...")
	run("vet", "./processors/weather/", "./cmd/maria/app/", "./bus/natsconn/")
	if out, err := exec.Command("gofmt", "-l", filepath.Join(dst, "processors", "weather"), filepath.Join(dst, "cmd", "maria", "app"), filepath.Join(dst, "bus", "natsconn")).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("gofmt -l: %v %s", err, out)
	}
	run("test", "-count=1", "./processors/weather/", "./tests/infra/", "./cmd/maria/app/")
	run("test", "-count=1", "-run", "TestAccountsConfMatchesEmbeddedPermissions", "./tests/security/")
}

func write(t *testing.T, root, path, content string) {
	t.Helper()
	full := filepath.Join(root, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for !exists(dir, "go.work") {
		if filepath.Dir(dir) == dir {
			t.Fatal("go.work not found")
		}
		dir = filepath.Dir(dir)
	}
	return dir
}

// copyTree copies the sources of the repository (not .git, tools, builds
// or node_modules).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, ".tools": true, "bin": true, "node_modules": true, "data": true}
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if skip[d.Name()] && rel != "." {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
