package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/cmd/maria/app"
	"github.com/nats-io/nats-server/v2/server"
)

// SandboxSlackToken replaces the operator's bot token in the sandbox: even a
// service that ignored dry-run could not act as the real bot.
const SandboxSlackToken = "xoxb-maria-sandbox"

// Sandbox is an isolated copy of the pipeline: its own embedded nats-server
// in a temporary directory (an isolated namespace: nothing published there
// can reach production subscribers), Maria's streams declared there, and the
// selected services running against it with every side effect disabled.
type Sandbox struct {
	Dir    string
	Server *server.Server
	Bus    *bus.Bus
	Slack  *SlackSink
	Odoo   *OdooGuard
	// Started lists the services running; Skipped why the others are not.
	Started []string
	Skipped map[string]string
	Env     map[string]string

	cancel context.CancelFunc
	run    *app.Running
	sims   *sandboxSims
}

// SandboxOptions tune StartSandbox.
type SandboxOptions struct {
	// Environ is the operator's configuration (os.Environ as a map): OpenAI,
	// Odoo (reads) and tuning variables are copied from it.
	Environ map[string]string
	// Services to run; empty means every registered service except ingress
	// (nothing comes from Slack in a sandbox), skipping those whose
	// configuration is not satisfiable.
	Services []string
	// LogOutput receives the sandbox services' logs (default discarded).
	LogOutput io.Writer
	// Simulate runs the sandbox on its own OpenAI and Odoo simulators
	// instead of the model and Odoo Environ names.
	Simulate bool
}

// SandboxEnv is the sandbox services' configuration: the operator's
// environment with every way out of the sandbox replaced.
func SandboxEnv(environ map[string]string, natsURL, dataDir, slackURL, odooURL string) map[string]string {
	env := make(map[string]string, len(environ)+12)
	for k, v := range environ {
		env[k] = v
	}
	// The sandbox server's operator identity, never the real bus' credentials.
	env["NATS_CREDS"] = natsconn.EmbeddedCreds(dataDir, natsconn.Operator)
	for k := range env {
		if strings.HasPrefix(k, "AWS_") {
			delete(env, k) // storage writes go to the sandbox's NATS, never to the real buckets
		}
	}
	env["NATS_URL"] = natsURL
	env["MARIA_DATA_DIR"] = dataDir
	env["MARIA_NATS_LISTEN"] = "-"
	env["MARIA_STREAM_REPLICAS"] = "1"
	env["MARIA_HTTP_ADDR"] = "127.0.0.1:0"
	env["MARIA_SERVICE_NAME"] = "maria-sandbox"
	env["MARIA_EGRESS_DRY_RUN"] = "true"
	env["MARIA_STORAGE"] = "nats"
	env["MARIA_ERP_READ_ONLY"] = "true"
	env["SLACK_API_URL"] = slackURL
	env["SLACK_BOT_TOKEN"] = SandboxSlackToken
	delete(env, "SLACK_APP_TOKEN")
	if odooURL != "" {
		// Links in the sandbox's answers still name the real Odoo, so they
		// compare equal to the original run's.
		if env["ODOO_PUBLIC_URL"] == "" {
			env["ODOO_PUBLIC_URL"] = environ["ODOO_URL"]
		}
		env["ODOO_URL"] = odooURL
	}
	return env
}

// StartSandbox starts the sandbox server and services. Close it when done.
func StartSandbox(ctx context.Context, o SandboxOptions) (sb *Sandbox, err error) {
	dir, err := os.MkdirTemp("", "maria-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("sandbox dir: %w", err)
	}
	sb = &Sandbox{Dir: dir, Skipped: map[string]string{}}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()
	logOut := o.LogOutput
	if logOut == nil {
		logOut = io.Discard
	}
	if err := sb.startServer(ctx, logOut); err != nil {
		return sb, err
	}
	if sb.Slack, err = StartSlackSink(); err != nil {
		return sb, err
	}
	if o.Simulate {
		environ := make(map[string]string, len(o.Environ))
		for k, v := range o.Environ {
			environ[k] = v
		}
		if sb.sims, err = startSims(environ); err != nil {
			return sb, err
		}
		o.Environ = environ
	}
	odooURL := ""
	if up := o.Environ["ODOO_URL"]; up != "" {
		if sb.Odoo, err = StartOdooGuard(up); err != nil {
			return sb, err
		}
		odooURL = sb.Odoo.URL()
	}
	sb.Env = SandboxEnv(o.Environ, sb.Server.ClientURL(), dir, sb.Slack.URL(), odooURL)
	return sb, sb.startServices(ctx, o.Services, logOut)
}

// startServer starts the sandbox's own nats-server and declares Maria's
// streams there.
func (sb *Sandbox) startServer(ctx context.Context, logOut io.Writer) error {
	var err error
	sb.Server, err = natsconn.StartEmbedded(sb.Dir, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox server: %w", err)
	}
	cfg := config.Config{NATSURL: sb.Server.ClientURL(), NATSCreds: natsconn.EmbeddedCreds(sb.Dir, natsconn.Operator), DataDir: sb.Dir, EmbeddedListen: "-", Replicas: 1, ServiceName: "maria-sandbox-replay", LogLevel: "warn"}
	sb.Bus, err = bus.Connect(ctx, cfg, telemetry.NewLogger(logOut, "warn", "maria-sandbox"))
	if err != nil {
		return fmt.Errorf("sandbox connect: %w", err)
	}
	if err := sb.Bus.EnsureStreams(ctx); err != nil {
		return fmt.Errorf("sandbox streams: %w", err)
	}
	return nil
}

// startServices runs the named services on sb.Env, or, none named, every
// registered one except ingress whose configuration is satisfiable here.
func (sb *Sandbox) startServices(ctx context.Context, names []string, logOut io.Writer) error {
	if len(names) == 0 {
		for _, n := range app.Services() {
			if n != "ingress" {
				names = append(names, n)
			}
		}
		// Probe each service alone (started, then stopped at once): one
		// whose configuration cannot be satisfied here is skipped, and said
		// so, instead of failing the others. Probes run one after the other
		// so no two service sets ever run at the same time.
		ok, skipped := app.Probe(ctx, names, sb.Env, nil, logOut)
		for n, err := range skipped {
			sb.Skipped[n] = err.Error()
		}
		names = ok
	}
	if len(names) == 0 {
		return nil
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sb.cancel = cancel
	r, err := app.Start(runCtx, app.Options{Services: names, Env: config.NewEnvFrom(sb.Env), LogOutput: logOut})
	if err != nil {
		return fmt.Errorf("sandbox services: %w", err)
	}
	sb.run = r
	sb.Started = names
	return nil
}

// Close stops the services and the server and removes the sandbox's data.
func (sb *Sandbox) Close() {
	if sb.cancel != nil {
		sb.cancel()
	}
	if sb.run != nil {
		_ = sb.run.Wait()
	}
	if sb.Bus != nil {
		sb.Bus.Close()
	}
	if sb.Server != nil {
		sb.Server.Shutdown()
		sb.Server.WaitForShutdown()
	}
	if sb.Slack != nil {
		sb.Slack.Close()
	}
	if sb.Odoo != nil {
		sb.Odoo.Close()
	}
	sb.sims.Close()
	if sb.Dir != "" {
		_ = os.RemoveAll(sb.Dir)
	}
}

// Consumers lists the durable consumers of a sandbox stream (who will
// process the replayed messages).
func (sb *Sandbox) Consumers(ctx context.Context, stream string) ([]string, error) {
	st, err := sb.Bus.JetStream().Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	var names []string
	cl := st.ListConsumers(ctx)
	for ci := range cl.Info() {
		if ci.Config.Durable != "" {
			names = append(names, ci.Name)
		}
	}
	sort.Strings(names)
	return names, cl.Err()
}

// SlackSink stands in for the Slack Web API inside the sandbox: egress runs
// in dry-run mode and should never call it, but if anything does, the call
// is recorded and refused instead of reaching Slack.
type SlackSink struct {
	srv *http.Server
	ln  net.Listener
	mu  sync.Mutex
	// calls counts calls per API method.
	calls map[string]int
}

// StartSlackSink listens on a random loopback port.
func StartSlackSink() (*SlackSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox slack sink: %w", err)
	}
	s := &SlackSink{ln: ln, calls: map[string]int{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *SlackSink) serve(w http.ResponseWriter, r *http.Request) {
	method := path.Base(r.URL.Path)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
	w.Header().Set("Content-Type", "application/json")
	if method == "auth.test" {
		// Identity checks are not side effects: let services start.
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "team": "sandbox", "team_id": "T0SANDBOX", "user": "maria", "user_id": "U0SANDBOX", "bot_id": "B0SANDBOX", "url": "https://sandbox.invalid/"})
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "maria_sandbox_blocked"})
}

// URL is the API base URL (with the trailing slash slack-go expects).
func (s *SlackSink) URL() string { return "http://" + s.ln.Addr().String() + "/api/" }

// Calls returns how many calls each method received (auth.test excluded).
func (s *SlackSink) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Close stops the sink.
func (s *SlackSink) Close() { _ = s.srv.Close() }

// SandboxReport is what `maria replay --to sandbox` prints.
type SandboxReport struct {
	RunID        string            `json:"run_id"`
	Stream       string            `json:"stream"`
	Replay       ReplayResult      `json:"replay"`
	Services     []string          `json:"services"`
	Skipped      map[string]string `json:"skipped_services,omitempty"`
	Consumers    []string          `json:"consumers_of_stream"`
	QuietError   string            `json:"quiet_error,omitempty"`
	SlackBlocked map[string]int    `json:"slack_calls_blocked,omitempty"`
	OdooRefused  []string          `json:"odoo_calls_refused,omitempty"`
	// DeadLetters are the sandbox's: what its services gave up on.
	DeadLetters []DeadLetterRow   `json:"dead_letters,omitempty"`
	Diffs       []CorrelationDiff `json:"correlations"`
	Differences int               `json:"differences"`
	Timings     SandboxTimings    `json:"timings"`
}

// PrintSandboxReport writes the header and the side-by-side comparison.
func PrintSandboxReport(w io.Writer, rep *SandboxReport, width int, color bool) {
	p := Painter(color)
	fmt.Fprintf(w, "sandbox replay %s of %s: %d message(s) replayed\n", rep.RunID, rep.Stream, rep.Replay.Published+rep.Replay.Duplicates)
	fmt.Fprintf(w, "services: %s\n", strings.Join(rep.Services, ", "))
	fmt.Fprintf(w, "took: %s\n", rep.Timings)
	if len(rep.Skipped) > 0 {
		keys := make([]string, 0, len(rep.Skipped))
		for k := range rep.Skipped {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "skipped %s: %s\n", k, Truncate(rep.Skipped[k], 200))
		}
	}
	if len(rep.Consumers) == 0 {
		fmt.Fprintf(w, "%s no service in the sandbox consumes %s: nothing will be produced\n", p.Paint(cYellow, "warning:"), rep.Stream)
	} else {
		fmt.Fprintf(w, "consumers of %s: %s\n", rep.Stream, strings.Join(rep.Consumers, ", "))
	}
	if rep.QuietError != "" {
		fmt.Fprintf(w, "%s %s (comparing what was produced so far)\n", p.Paint(cYellow, "warning:"), rep.QuietError)
	}
	for m, n := range rep.SlackBlocked {
		fmt.Fprintf(w, "%s a sandbox service called Slack %s %d time(s); refused by the sandbox\n", p.Paint(cYellow, "warning:"), m, n)
	}
	for _, r := range rep.OdooRefused {
		fmt.Fprintf(w, "refused Odoo write in the sandbox: %s\n", r)
	}
	fmt.Fprintln(w)
	PrintSideBySide(w, rep.Diffs, width, color)
	fmt.Fprintf(w, "%d correlation(s), %d difference(s)\n", len(rep.Diffs), rep.Differences)
	if len(rep.DeadLetters) > 0 {
		fmt.Fprintf(w, "\n%s\n", p.Paint(cRed, fmt.Sprintf("%d dead letter(s) in the sandbox:", len(rep.DeadLetters))))
		PrintDLQ(w, rep.DeadLetters)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, rep.Summary(color))
}

// Environ returns the process environment as a map.
func Environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
