package backup_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	mariaBin  string
	buildErr  error
)

// maria builds the real binary once per run: the test drives `maria backup`
// and `maria restore` as an operator would.
func maria(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		_, here, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(here), "..", "..")
		dir, err := os.MkdirTemp("", "maria-backup-bin-")
		if err != nil {
			buildErr = err
			return
		}
		mariaBin = filepath.Join(dir, "maria")
		cmd := exec.Command("go", "build", "-o", mariaBin, "./cmd/maria")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/maria: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return mariaBin
}

// run runs maria with exactly env (no inherited NATS_* or MARIA_*) and
// returns stdout; stderr (the progress) is logged.
func run(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(maria(t), args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("maria %s:\n%s", strings.Join(args, " "), stderr.String())
	if err != nil {
		t.Fatalf("maria %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String()
}

func hexOf(b []byte) string { return fmt.Sprintf("%x", b) }
