package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
	"github.com/mariahq/maria/tests/sim/openaisim"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The sandbox-replay workload: what a busy workspace sends Maria. Every
// mentionEvery-th event asks Maria an ERP question (a new conversation: a
// whole turn with one ERP read), every thanksEvery-th (offset by half)
// thanks her (the example processor answers, counting per user, so each
// is from another person: a count kept per user depends on the order in
// which threads are handled, which no replay promises); the rest is
// channel chatter she reads and leaves alone.
const (
	mentionEvery   = 20
	thanksEvery    = 20
	sandboxPosters = 8 // concurrent deliveries while recording
	// sandboxRecordWait bounds the recording: every event stored and
	// handled by the original run.
	sandboxRecordWait = 2 * time.Minute
)

// sandboxResult is one sandbox-replay trial: the same recorded events
// replayed into a sandbox and listed by the dry-run scan, both timed as
// the whole `maria replay` command an operator waits for.
type sandboxResult struct {
	events         int
	sandbox, scan  float64 // events/s
	timings        sandboxTimings
	correlations   int
	deadLetters    int
	services       []string
	mentions, acks int
}

// sandboxTimings mirror the report's "timings" (ops.SandboxTimings).
type sandboxTimings struct {
	StartMS   int64 `json:"start_ms"`
	PublishMS int64 `json:"publish_ms"`
	SettleMS  int64 `json:"settle_ms"`
	CompareMS int64 `json:"compare_ms"`
}

// sandboxReport is the part of `maria replay --to sandbox --json` a trial checks.
type sandboxReport struct {
	Replay struct {
		Published  int `json:"published"`
		Duplicates int `json:"duplicates"`
	} `json:"replay"`
	Services    []string          `json:"services"`
	Skipped     map[string]string `json:"skipped_services"`
	QuietError  string            `json:"quiet_error"`
	DeadLetters []json.RawMessage `json:"dead_letters"`
	Diffs       []json.RawMessage `json:"correlations"`
	Differences int               `json:"differences"`
	Timings     sandboxTimings    `json:"timings"`
}

// sandboxReplayTrial records events Slack events through `maria run` (every
// default service, the simulators answering at once) on a fresh server,
// stops it, then times `maria replay --stream MARIA_IN --dry-run` and
// `maria replay --stream MARIA_IN --to sandbox --simulate` over them. The
// sandbox must reproduce the original run (exit status 0: every service
// ran, no difference, settled), or the trial fails.
func sandboxReplayTrial(ctx context.Context, bin turnBinaries, events int) (sandboxResult, error) {
	r := sandboxResult{events: events}
	dir, err := os.MkdirTemp("", "bench-compare-sandbox-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer()
	if err != nil {
		return r, err
	}
	defer srv.stop()
	rec, err := startRecorder(ctx, bin, srv.url(), dir)
	if err != nil {
		return r, err
	}
	r.mentions, r.acks, err = rec.record(ctx, events)
	rec.stop()
	if err != nil {
		return r, err
	}
	if r.scan, err = timeReplay(ctx, bin, rec.env, dir, events, nil, "--dry-run"); err != nil {
		return r, err
	}
	var rep sandboxReport
	if r.sandbox, err = timeReplay(ctx, bin, rec.env, dir, events, &rep, "--to", "sandbox", "--simulate"); err != nil {
		return r, err
	}
	if err := rep.check(events); err != nil {
		return r, err
	}
	r.timings, r.correlations, r.deadLetters, r.services = rep.Timings, len(rep.Diffs), len(rep.DeadLetters), rep.Services
	return r, nil
}

// check is what the sandbox must have proved for the trial to count.
func (rep *sandboxReport) check(events int) error {
	switch {
	case rep.Replay.Published != events:
		return fmt.Errorf("sandbox replay published %d of %d events", rep.Replay.Published, events)
	case len(rep.Skipped) > 0:
		return fmt.Errorf("sandbox skipped services: %v", rep.Skipped)
	case rep.QuietError != "":
		return fmt.Errorf("sandbox did not settle: %s", rep.QuietError)
	case rep.Differences > 0:
		return fmt.Errorf("sandbox did not reproduce the original run: %d difference(s)", rep.Differences)
	case len(rep.Diffs) != events:
		return fmt.Errorf("sandbox compared %d correlations, want one per event (%d)", len(rep.Diffs), events)
	}
	return nil
}

// timeReplay runs `maria replay --stream MARIA_IN --from-seq 1 --json
// args...` and returns events per second of its wall time; report, when
// set, receives its JSON output. A non-zero exit is an error.
func timeReplay(ctx context.Context, bin turnBinaries, env []string, dir string, events int, report any, args ...string) (float64, error) {
	args = append([]string{"replay", "--stream", schemas.StreamIn, "--from-seq", "1", "--json"}, args...)
	cmd := exec.CommandContext(ctx, bin.maria, args...)
	var out, errOut bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.Dir = env, &out, &errOut, dir
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("maria %v: %w\n%s%s", args, err, tail(errOut.Bytes(), 2000), tail(out.Bytes(), 2000))
	}
	if report != nil {
		if err := json.Unmarshal(out.Bytes(), report); err != nil {
			return 0, fmt.Errorf("maria %v: report: %w", args, err)
		}
	}
	return float64(events) / took.Seconds(), nil
}

// recorder is `maria run` with the simulators, recording a workload.
type recorder struct {
	maria  *process
	env    []string
	natsJS jetstream.JetStream
	nc     *nats.Conn
	slack  *slacksim.Sim
	events *slackevents.Client
	closer []func()
}

func startRecorder(ctx context.Context, bin turnBinaries, natsURL, dir string) (rec *recorder, err error) {
	rec = &recorder{}
	defer func() {
		if err != nil {
			rec.stop()
		}
	}()
	rec.slack = slacksim.New("xoxb-bench-" + randomHex(12))
	rec.closer = append(rec.closer, rec.slack.Close)
	odoo := odoosim.Start()
	rec.closer = append(rec.closer, odoo.Close)
	model := openaisim.New(openaisim.Rules())
	model.APIKey = "sk-bench-" + randomHex(12)
	modelSrv, modelURL, err := model.Listen("127.0.0.1:0")
	if err != nil {
		return rec, err
	}
	rec.closer = append(rec.closer, func() { _ = modelSrv.Close() })
	secret := randomHex(32)
	httpPort, err := freePort()
	if err != nil {
		return rec, err
	}
	httpAddr := "127.0.0.1:" + strconv.Itoa(httpPort)
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "TMPDIR": os.TempDir(),
		"NATS_URL": natsURL, "MARIA_HTTP_ADDR": httpAddr, "MARIA_DATA_DIR": filepath.Join(dir, "data"),
		"MARIA_DECLARE_STREAMS": "true", "MARIA_LOG_LEVEL": "warn",
		// Every service the sandbox runs, so it has an original to match.
		"MARIA_SERVICES": "default,example",
		"SLACK_API_URL":  rec.slack.URL(), "SLACK_BOT_TOKEN": rec.slack.Token(), "SLACK_SIGNING_SECRET": secret,
		"OPENAI_BASE_URL": modelURL, "OPENAI_API_KEY": model.APIKey,
		"ODOO_URL": odoo.URL, "ODOO_DB": odoo.DB, "ODOO_USERNAME": odoo.User, "ODOO_PASSWORD": odoo.Password,
		// A generated workload is one sender far busier than a person:
		// the door's rate limits and the token budgets are off; every
		// channel may read the ERP. The replay runs with the same
		// configuration, as an operator's shell would hold it.
		"MARIA_INGRESS_USER_RATE": "0", "MARIA_INGRESS_TEAM_RATE": "0",
		"MARIA_AI_USER_DAILY_TOKENS": "1000000000", "MARIA_AI_TEAM_DAILY_TOKENS": "1000000000",
		"MARIA_ERP_READ_CHANNELS": "*",
	}
	for k, v := range vars {
		rec.env = append(rec.env, k+"="+v)
	}
	sort.Strings(rec.env)
	if rec.maria, err = startProcess(bin.maria, rec.env, filepath.Join(dir, "maria.log"), "run"); err != nil {
		return rec, err
	}
	if err := waitReady(ctx, "http://"+httpAddr+"/readyz"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maria.log"))
		return rec, fmt.Errorf("maria run: %w\n%s", err, tail(log, 2000))
	}
	if rec.nc, err = nats.Connect(natsURL, nats.Name("bench-compare-recorder")); err != nil {
		return rec, err
	}
	if rec.natsJS, err = jetstream.New(rec.nc); err != nil {
		return rec, err
	}
	rec.events = &slackevents.Client{BaseURL: "http://" + httpAddr, SigningSecret: secret}
	return rec, nil
}

func (rec *recorder) stop() {
	if rec.maria != nil {
		rec.maria.stop()
		rec.maria = nil
	}
	if rec.nc != nil {
		rec.nc.Close()
		rec.nc = nil
	}
	for i := len(rec.closer) - 1; i >= 0; i-- {
		rec.closer[i]()
	}
	rec.closer = nil
}

// record delivers the workload and waits until the original run is over:
// every event stored in MARIA_IN, every question answered and every thanks
// acknowledged in Slack (delivered), no consumer with work left.
func (rec *recorder) record(ctx context.Context, events int) (mentions, acks int, err error) {
	var answered, thanked atomic.Int64
	sub, err := rec.nc.Subscribe(schemas.SubjectDeliveredAll, func(m *nats.Msg) {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			return
		}
		if d, err := schemas.DecodeData[schemas.Delivered](env); err == nil {
			switch d.CommandType {
			case schemas.TypeOutStreamStop:
				answered.Add(1)
			case schemas.TypeOutPost:
				thanked.Add(1)
			}
		}
	})
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := rec.nc.Flush(); err != nil {
		return 0, 0, err
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var postErr error
	var once sync.Once
	for range sandboxPosters {
		wg.Go(func() {
			for i := range next {
				if err := rec.post(ctx, i); err != nil {
					once.Do(func() { postErr = err })
				}
			}
		})
	}
	for i := range events {
		switch {
		case i%mentionEvery == 0:
			mentions++
		case i%thanksEvery == thanksEvery/2:
			acks++
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if postErr != nil {
		return mentions, acks, postErr
	}
	done := func() (bool, error) {
		if answered.Load() < int64(mentions) || thanked.Load() < int64(acks) {
			return false, nil
		}
		return rec.idle(ctx, events)
	}
	deadline := time.Now().Add(sandboxRecordWait)
	for {
		ok, err := done()
		if err != nil || ok {
			return mentions, acks, err
		}
		if time.Now().After(deadline) {
			return mentions, acks, fmt.Errorf("recording not over after %s: %d of %d questions answered, %d of %d thanks acknowledged",
				sandboxRecordWait, answered.Load(), mentions, thanked.Load(), acks)
		}
		select {
		case <-ctx.Done():
			return mentions, acks, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// post delivers the workload's i-th event, as Slack would: the message
// appears in the channel, then its event reaches ingress.
func (rec *recorder) post(ctx context.Context, i int) error {
	channel := fmt.Sprintf("CBENCH%02d", i%16)
	var ev slackevents.Event
	switch {
	case i%mentionEvery == 0:
		channel = fmt.Sprintf("CASK%05d", i) // a new conversation per question
		text := rec.events.MentionText(turnQuestion)
		ts := rec.slack.AddUserMessage(channel, "U0BENCH", text, "")
		ev = slackevents.AppMentionEvent(slackevents.DefaultTeam, channel, "U0BENCH", text, ts, "")
	case i%thanksEvery == thanksEvery/2:
		user := fmt.Sprintf("U0THANKS%05d", i)
		ts := rec.slack.AddUserMessage(channel, user, "thanks Maria!", "")
		ev = slackevents.MessageEvent(slackevents.DefaultTeam, channel, "channel", user, "thanks Maria!", ts, "")
	default:
		text := fmt.Sprintf("standup notes, item %d", i)
		ts := rec.slack.AddUserMessage(channel, "U0CHAT", text, "")
		ev = slackevents.MessageEvent(slackevents.DefaultTeam, channel, "channel", "U0CHAT", text, ts, "")
	}
	body, _ := rec.events.Callback(ev)
	st, resp, err := rec.events.PostEvent(ctx, body)
	if err != nil || st != http.StatusOK {
		return fmt.Errorf("event %d: ingress answered %d %s (%v)", i, st, resp, err)
	}
	return nil
}

// idle tells whether MARIA_IN holds the events and no consumer of any
// stream has work left.
func (rec *recorder) idle(ctx context.Context, events int) (bool, error) {
	in, err := rec.natsJS.Stream(ctx, schemas.StreamIn)
	if err != nil {
		return false, err
	}
	if n := in.CachedInfo().State.Msgs; n != uint64(events) {
		if n > uint64(events) {
			return false, fmt.Errorf("MARIA_IN holds %d messages for %d events", n, events)
		}
		return false, nil
	}
	names := rec.natsJS.StreamNames(ctx)
	for name := range names.Name() {
		st, err := rec.natsJS.Stream(ctx, name)
		if err != nil {
			return false, err
		}
		cl := st.ListConsumers(ctx)
		busy := false
		for ci := range cl.Info() {
			busy = busy || ci.NumPending > 0 || ci.NumAckPending > 0
		}
		if err := cl.Err(); err != nil {
			return false, err
		}
		if busy {
			return false, nil
		}
	}
	if err := names.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		return false, err
	}
	return true, nil
}

func (t sandboxTimings) String() string {
	return fmt.Sprintf("start %d ms, publish %d ms, settle %d ms, compare %d ms", t.StartMS, t.PublishMS, t.SettleMS, t.CompareMS)
}

// renderSandbox is the sandbox-replay table (medians of the repetitions).
func renderSandbox(c runConfig, rs []sandboxResult, skipped error) string {
	var b strings.Builder
	if len(rs) == 0 {
		if skipped != nil {
			first, _, _ := strings.Cut(skipped.Error(), "\n")
			fmt.Fprintf(&b, "\nSandbox replay: not run (%s).\n", first)
		}
		return b.String()
	}
	med := func(f func(sandboxResult) float64) float64 { return medianOf(rs, f) }
	sb := summarize(trialsOf(rs, func(r sandboxResult) float64 { return r.sandbox }))
	scan := summarize(trialsOf(rs, func(r sandboxResult) float64 { return r.scan }))
	r := rs[0]
	fmt.Fprintf(&b, "\nSandbox replay: %d Slack events recorded through `maria run` (simulators answering at once) on a fresh server — every %dth an ERP question (a whole turn), every %dth a thanks (the example processor answers), the rest channel chatter — then `maria replay --stream MARIA_IN --from-seq 1` run as a process, its wall time from start to exit: `--to sandbox --simulate` (its own server, services %s; every trial reproduced the original run: %d correlations compared, no difference, %d dead letter(s)) against the `--dry-run` scan of the same events.\n\n",
		c.sandboxEvents, mentionEvery, thanksEvery, strings.Join(r.services, ", "), r.correlations, r.deadLetters)
	b.WriteString("| replay | median | spread | start | publish | settle | compare | goal |\n|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| `--to sandbox --simulate` | %s events/s | %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | ≥ 1,000 events/s |\n", thousands(sb.rate), sb.spread(),
		med(func(r sandboxResult) float64 { return float64(r.timings.StartMS) }), med(func(r sandboxResult) float64 { return float64(r.timings.PublishMS) }),
		med(func(r sandboxResult) float64 { return float64(r.timings.SettleMS) }), med(func(r sandboxResult) float64 { return float64(r.timings.CompareMS) }))
	fmt.Fprintf(&b, "| `--dry-run` scan | %s events/s | %s | | | | | |\n", thousands(scan.rate), scan.spread())
	fmt.Fprintf(&b, "\nSandbox ÷ scan: %.2f×. Start is the sandbox's server, its services' probes and start; settle, the services handling the replayed events and then staying idle for `--quiet`; compare, both runs' outputs and the dead letters (the original run's were read meanwhile).\n",
		sb.rate/scan.rate)
	return b.String()
}

// medianOf is the median of f over xs.
func medianOf[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	slices.Sort(v)
	return median(v)
}

func trialsOf(rs []sandboxResult, rate func(sandboxResult) float64) []trial {
	ts := make([]trial, len(rs))
	for i, r := range rs {
		ts[i] = trial{rate: rate(r)}
	}
	return ts
}
