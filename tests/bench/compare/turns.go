package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats.go"
)

// turnQuestion needs one ERP read: a whole turn through every service.
const turnQuestion = "What is the status of S00042?"

// turnResult is one whole-turn trial: completed turns per second at the
// offered rate, their p99, and the CPU each process spent per turn.
type turnResult struct {
	offered, completed float64 // turns/s
	p99                time.Duration
	mariaCPU, natsCPU  time.Duration // per completed turn
	turns, answered    int
	mariaPeakRSS       int64 // bytes, the maria process' high-water mark
}

// turnBinaries are `maria` built from this tree and nats-server from its
// Go module, as separate processes so /proc tells their CPU apart.
type turnBinaries struct{ maria, natsServer string }

func buildTurnBinaries(repo, dir string) (turnBinaries, error) {
	b := turnBinaries{maria: filepath.Join(dir, "maria"), natsServer: filepath.Join(dir, "nats-server")}
	for _, s := range []struct{ dir, out, pkg string }{
		{repo, b.maria, "./cmd/maria"},
		{filepath.Join(repo, "tests", "bench", "compare"), b.natsServer, "github.com/nats-io/nats-server/v2"},
	} {
		cmd := exec.Command("go", "build", "-o", s.out, s.pkg)
		cmd.Dir = s.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build %s: %w\n%s", s.pkg, err, out)
		}
	}
	return b, nil
}

// process is a started child; stop kills it (only it, by its pid) and
// waits for it to exit, so its files can be removed.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProcess(path string, env []string, logTo string, args ...string) (*process, error) {
	f, err := os.Create(logTo)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.exited) }()
	return p, nil
}

func (p *process) stop() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// cpuOf reads the CPU time each process has used so far.
func cpuOf(ps ...*process) ([]time.Duration, error) {
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		var err error
		if out[i], err = childCPU(p.cmd.Process.Pid); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// wholeTurns runs `maria run` (every default service in one process)
// against a nats-server process and the simulators (which answer at
// once), offers rate turns per second for dur, each a new conversation
// (a signed app_mention → ingress → ai with one ERP read → egress →
// Slack → maria.delivered), and measures until every turn is answered or
// 30 s after the last was offered.
func wholeTurns(ctx context.Context, bin turnBinaries, rate float64, dur time.Duration) (turnResult, error) {
	dir, err := os.MkdirTemp("", "bench-compare-turns-")
	if err != nil {
		return turnResult{}, err
	}
	defer os.RemoveAll(dir)
	natsPort, err := freePort()
	if err != nil {
		return turnResult{}, err
	}
	// A max store that fits the streams' reservations whatever the free
	// disk (nats-server's default is three quarters of it).
	conf := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("jetstream {\n  store_dir: %q\n  max_file_store: 1TB\n}\n", filepath.Join(dir, "js"))), 0o600); err != nil {
		return turnResult{}, err
	}
	ns, err := startProcess(bin.natsServer, []string{"PATH=" + os.Getenv("PATH")}, filepath.Join(dir, "nats.log"),
		"-a", "127.0.0.1", "-p", strconv.Itoa(natsPort), "-c", conf)
	if err != nil {
		return turnResult{}, err
	}
	defer ns.stop()
	natsURL := "nats://127.0.0.1:" + strconv.Itoa(natsPort)
	if err := waitDial(ctx, "127.0.0.1:"+strconv.Itoa(natsPort)); err != nil {
		return turnResult{}, fmt.Errorf("nats-server: %w", err)
	}

	slack := slacksim.New("xoxb-bench-" + randomHex(12))
	defer slack.Close()
	odoo := odoosim.Start()
	defer odoo.Close()
	model := openaisim.New(openaisim.Rules())
	model.APIKey = "sk-bench-" + randomHex(12)
	modelSrv, modelURL, err := model.Listen("127.0.0.1:0")
	if err != nil {
		return turnResult{}, err
	}
	defer modelSrv.Close()
	secret := randomHex(32)
	httpPort, err := freePort()
	if err != nil {
		return turnResult{}, err
	}
	httpAddr := "127.0.0.1:" + strconv.Itoa(httpPort)
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "TMPDIR": os.TempDir(),
		"NATS_URL": natsURL, "MARIA_HTTP_ADDR": httpAddr, "MARIA_DATA_DIR": filepath.Join(dir, "data"),
		"MARIA_DECLARE_STREAMS": "true", "MARIA_LOG_LEVEL": "warn",
		"SLACK_API_URL": slack.URL(), "SLACK_BOT_TOKEN": slack.Token(), "SLACK_SIGNING_SECRET": secret,
		"OPENAI_BASE_URL": modelURL, "OPENAI_API_KEY": model.APIKey,
		"ODOO_URL": odoo.URL, "ODOO_DB": odoo.DB, "ODOO_USERNAME": odoo.User, "ODOO_PASSWORD": odoo.Password,
		// One benchmark user sends far more than a person would: the
		// door's rate limits and the token budgets are off; every channel
		// may read the ERP.
		"MARIA_INGRESS_USER_RATE": "0", "MARIA_INGRESS_TEAM_RATE": "0",
		"MARIA_AI_USER_DAILY_TOKENS": "1000000000", "MARIA_AI_TEAM_DAILY_TOKENS": "1000000000",
		"MARIA_ERP_READ_CHANNELS": "*",
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	maria, err := startProcess(bin.maria, env, filepath.Join(dir, "maria.log"), "run")
	if err != nil {
		return turnResult{}, err
	}
	defer maria.stop()
	if err := waitReady(ctx, "http://"+httpAddr+"/readyz"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maria.log"))
		return turnResult{}, fmt.Errorf("maria run: %w\n%s", err, tail(log, 2000))
	}

	nc, err := nats.Connect(natsURL, nats.Name("bench-compare-observer"))
	if err != nil {
		return turnResult{}, err
	}
	defer nc.Close()
	var mu sync.Mutex
	sent := map[string]time.Time{} // channel → when its question was posted
	var latencies []time.Duration
	var lastAnswer time.Time
	all := make(chan struct{})
	total := int(rate * dur.Seconds())
	sub, err := nc.Subscribe(schemas.SubjectDeliveredAll, func(m *nats.Msg) {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			return
		}
		d, err := schemas.DecodeData[schemas.Delivered](env)
		if err != nil || d.CommandType != schemas.TypeOutStreamStop {
			return
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if t0, ok := sent[env.Channel]; ok {
			delete(sent, env.Channel)
			latencies = append(latencies, now.Sub(t0))
			lastAnswer = now
			if len(latencies) == total {
				close(all)
			}
		}
	})
	if err != nil {
		return turnResult{}, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		return turnResult{}, err
	}

	events := &slackevents.Client{BaseURL: "http://" + httpAddr, SigningSecret: secret}
	cpu0, err := cpuOf(maria, ns)
	if err != nil {
		return turnResult{}, err
	}
	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var posts sync.WaitGroup
	var postErr error
	var errOnce sync.Once
	for i := range total {
		if i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				posts.Wait()
				return turnResult{}, ctx.Err()
			}
		}
		channel := fmt.Sprintf("CTURN%05d", i) // a new conversation per turn
		posts.Go(func() {
			text := events.MentionText(turnQuestion)
			ts := slack.AddUserMessage(channel, "U0BENCH", text, "")
			body, _ := events.Callback(slackevents.AppMentionEvent(slackevents.DefaultTeam, channel, "U0BENCH", text, ts, ""))
			mu.Lock()
			// By channel, one per turn: the trees compared may derive
			// correlation ids differently (event ids before turn ids).
			sent[channel] = time.Now()
			mu.Unlock()
			if st, resp, err := events.PostEvent(ctx, body); err != nil || st != http.StatusOK {
				errOnce.Do(func() { postErr = fmt.Errorf("turn %d: ingress answered %d %s (%v)", i, st, resp, err) })
			}
		})
	}
	offeredFor := time.Since(start)
	posts.Wait()
	if postErr != nil {
		return turnResult{}, postErr
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
		return turnResult{}, ctx.Err()
	}
	cpu1, err := cpuOf(maria, ns)
	if err != nil {
		return turnResult{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	r := turnResult{offered: float64(total) / offeredFor.Seconds(), turns: total, answered: len(latencies)}
	if r.answered == 0 {
		return r, fmt.Errorf("no turn answered within 30 s of the last offered")
	}
	r.completed = float64(r.answered) / lastAnswer.Sub(start).Seconds()
	r.p99 = percentile(latencies, 99)
	if r.mariaPeakRSS, err = peakRSS(maria.cmd.Process.Pid); err != nil {
		return r, err
	}
	r.mariaCPU = (cpu1[0] - cpu0[0]) / time.Duration(r.answered)
	r.natsCPU = (cpu1[1] - cpu0[1]) / time.Duration(r.answered)
	return r, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitDial waits until addr accepts a connection (30 s at most).
func waitDial(ctx context.Context, addr string) error {
	return poll(ctx, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// waitReady waits until url answers 200 (30 s at most).
func waitReady(ctx context.Context, url string) error {
	return poll(ctx, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d", url, resp.StatusCode)
		}
		return nil
	})
}

func poll(ctx context.Context, try func() error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := try()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
