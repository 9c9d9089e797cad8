package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// repoRoot is the repository root (the go.work workspace).
func repoRoot() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}

// binaries are the processes under test, built once per `go test` run.
type binaries struct {
	Maria, NATSServer string
}

var (
	buildOnce sync.Once
	built     binaries
	buildErr  error
	buildDir  string
)

// build compiles the real `maria` binary (without -race: the services are
// the system under test, not the test) and nats-server from its Go module —
// the version Maria's go.mod pins — into a temporary directory.
func build(t testing.TB) binaries {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "maria-chaos-bin-")
		if buildErr != nil {
			return
		}
		root := repoRoot()
		steps := []struct{ dir, out, pkg string }{
			{root, filepath.Join(buildDir, "maria"), "./cmd/maria"},
			// The tests module requires nats-server (tests/natsconf): the
			// module cache already holds exactly that version.
			{filepath.Join(root, "tests"), filepath.Join(buildDir, "nats-server"), "github.com/nats-io/nats-server/v2"},
		}
		for _, s := range steps {
			cmd := exec.Command("go", "build", "-o", s.out, s.pkg)
			cmd.Dir = s.dir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", s.pkg, err, out)
				return
			}
		}
		built = binaries{Maria: steps[0].out, NATSServer: steps[1].out}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func cleanupBinaries() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}
