// Package awstest starts real local AWS-compatible servers for tests:
// versitygw (S3, checks SigV4 signatures and the SDK's checksums) and
// dynalite (DynamoDB). `make deps` (tests/tools/install.sh) installs both
// under .tools; a test skips with a clear message only when a binary is
// missing. Each server runs on a free loopback port, is waited for until it
// answers, and is stopped by pid when the test ends.
package awstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Credentials the local servers accept (versitygw checks signatures made
// with them; dynalite accepts any).
const (
	AccessKey = "maria-test-access"
	SecretKey = "maria-test-secret-key"
	Region    = "us-east-1"
)

// Server is one running local server.
type Server struct {
	// Endpoint is the base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	// Dir is the server's data directory (versitygw: the posix root; each
	// bucket is a sub-directory).
	Dir string
	cmd *exec.Cmd
	out *lockedBuffer
}

// Env returns the AWS SDK variables pointing a client at s3 and ddb (either
// may be nil), for tests that build clients the production way.
func Env(s3, ddb *Server) map[string]string {
	env := map[string]string{
		"AWS_REGION":            Region,
		"AWS_ACCESS_KEY_ID":     AccessKey,
		"AWS_SECRET_ACCESS_KEY": SecretKey,
	}
	if s3 != nil {
		env["AWS_ENDPOINT_URL_S3"] = s3.Endpoint
	}
	if ddb != nil {
		env["AWS_ENDPOINT_URL_DYNAMODB"] = ddb.Endpoint
	}
	return env
}

// FindTool looks for a test server binary: $PATH, then $MARIA_TOOLS/bin and
// $MARIA_TOOLS/node/node_modules/.bin, then the .tools directory of the
// enclosing repository (where `make deps` installs).
func FindTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	var roots []string
	if d := os.Getenv("MARIA_TOOLS"); d != "" {
		roots = append(roots, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, filepath.Join(d, ".tools"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, r := range roots {
		for _, c := range []string{filepath.Join(r, "bin", name), filepath.Join(r, "node", "node_modules", ".bin", name)} {
			if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return c, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found in PATH, $MARIA_TOOLS or .tools (install it with `make deps`)", name)
}

// S3 starts versitygw with the posix backend in a temporary directory.
// Buckets are created by the test (CreateBucket) or with MakeBucket.
func S3(t testing.TB) *Server {
	t.Helper()
	bin, err := FindTool("versitygw")
	if err != nil {
		t.Skipf("S3 tests skipped: %v", err)
	}
	dir := t.TempDir()
	return start(t, "versitygw", func(port int) *exec.Cmd {
		return exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
			"--port", "127.0.0.1:"+strconv.Itoa(port), "--quiet", "posix", dir)
	}, dir, s3Ready)
}

// DynamoDB starts dynalite in memory, tables becoming ACTIVE at once.
func DynamoDB(t testing.TB) *Server {
	t.Helper()
	bin, err := FindTool("dynalite")
	if err != nil {
		t.Skipf("DynamoDB tests skipped: %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("DynamoDB tests skipped: dynalite needs node: %v", err)
	}
	return start(t, "dynalite", func(port int) *exec.Cmd {
		return exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	}, "", dynamoReady)
}

// s3Ready: any S3 answer (an anonymous ListBuckets is refused with 403) means up.
func s3Ready(ctx context.Context, endpoint string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// dynamoReady: dynalite answers a (signature-less) ListTables.
func dynamoReady(ctx context.Context, endpoint string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader([]byte(`{}`)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func start(t testing.TB, name string, mk func(port int) *exec.Cmd, dir string, ready func(context.Context, string) error) *Server {
	t.Helper()
	var lastErr error
	// A free port may be taken between probing and binding: try a few.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("%s: free port: %v", name, err)
		}
		s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir, out: &lockedBuffer{}}
		s.cmd = mk(port)
		s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
		s.cmd.Env = append(os.Environ(), "NO_UPDATE_NOTIFIER=1")
		if err := s.cmd.Start(); err != nil {
			t.Skipf("%s cannot start (tests needing it skipped): %v", name, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- s.cmd.Wait() }()
		if err := waitReady(s, exited, ready); err != nil {
			s.stop(exited)
			lastErr = fmt.Errorf("%w; output:\n%s", err, s.out.String())
			continue
		}
		t.Cleanup(func() {
			s.stop(exited)
			if t.Failed() {
				t.Logf("%s output:\n%s", name, s.out.String())
			}
		})
		return s
	}
	t.Fatalf("%s did not become ready: %v", name, lastErr)
	return nil
}

func waitReady(s *Server, exited <-chan error, ready func(context.Context, string) error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited early: %v", err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx, s.Endpoint)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("not answering after 30s")
}

// stop ends the process we started, by its pid: SIGTERM, then SIGKILL.
func (s *Server) stop(exited <-chan error) {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-exited
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; don't grow without bound
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
