package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/mariahq/maria/cmd/maria/ops"
)

// serviceNames are the services the suite runs, each as its own process.
var serviceNames = []string{"ingress", "ai", "erp", "storage", "egress"}

// service is one `maria run <name>` process under its own NATS user.
type service struct {
	name     string
	httpAddr string
	proc     *proc
}

// environ turns vars into a process environment, sorted, with nothing of
// the test's own environment but PATH and HOME (no stray OTEL_*, NATS_*).
func environ(vars map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// declareStreams runs `maria streams --declare` as the operator, as a
// deployment does once before the services (MARIA_DECLARE_STREAMS=false).
func declareStreams(ctx context.Context, bin binaries, ns *natsServers, replicas int) error {
	vars := map[string]string{"NATS_URL": ns.urls("operator"), "MARIA_STREAM_REPLICAS": fmt.Sprint(replicas)}
	var out []byte
	var err error
	for attempt := 0; attempt < 20; attempt++ { // a young cluster may refuse R3 for a moment
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		cmd := exec.CommandContext(cctx, bin.Maria, "streams", "--declare")
		cmd.Env = environ(vars)
		out, err = cmd.CombinedOutput()
		cancel()
		if err == nil {
			return nil
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("maria streams --declare: %w\n%s", err, out)
}

// newService prepares the process of one service with the shared
// configuration and its own NATS identity.
func newService(bin binaries, ns *natsServers, dir, name string, shared map[string]string) (*service, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for k, v := range shared {
		vars[k] = v
	}
	s := &service{name: name, httpAddr: fmt.Sprintf("127.0.0.1:%d", port)}
	vars["NATS_URL"] = ns.urls(name)
	vars["MARIA_HTTP_ADDR"] = s.httpAddr
	vars["MARIA_SERVICE_NAME"] = "maria-" + name
	vars["MARIA_DATA_DIR"] = filepath.Join(dir, "data-"+name)
	s.proc = newProc(name, bin.Maria, filepath.Join(dir, name+".log"), environ(vars), "run", name)
	return s, nil
}

// start runs the process and waits for its /readyz.
func (s *service) start(ctx context.Context) error {
	if err := s.proc.start(); err != nil {
		return err
	}
	return s.waitReady(ctx, 60*time.Second)
}

func (s *service) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for {
		if !s.proc.running() {
			return fmt.Errorf("maria run %s exited:\n%s", s.name, s.proc.tail(30))
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ops.Probe(pctx, "http://"+s.httpAddr+"/readyz")
		cancel()
		if err == nil {
			return nil
		}
		last = err.Error()
		if time.Now().After(deadline) {
			return fmt.Errorf("maria run %s not ready after %s (%s):\n%s", s.name, limit, last, s.proc.tail(30))
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}
