package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// config sizes a run; -short values make the smoke test's.
type runConfig struct {
	reps          int
	ingressEvents int
	hopMessages   int
	repo          string
	results       string
	only          string // run only the variants whose name contains it (profiling)
	// turnRate turns per second are offered for turnFor in each whole-turn
	// trial; 0 skips them.
	turnRate float64
	turnFor  time.Duration
	// sandboxEvents are recorded, then replayed into a sandbox, in each
	// sandbox-replay trial; 0 skips them.
	sandboxEvents int
}

// variant is one side of a comparison.
type variant struct {
	group, name string
	goal        string // issue 17's goal for Maria's ratio to it, if any
	run         func(context.Context) (trial, error)
	skip        error // why it cannot run here (reported in the table)
	trials      []trial
}

// run measures every variant c.reps times, interleaved, and writes the table.
func run(ctx context.Context, c runConfig, out, progress io.Writer) error {
	if c.repo == "" {
		repo, err := findRepo()
		if err != nil {
			return err
		}
		c.repo = repo
	}
	events := mentionEvents(c.ingressEvents)
	bolt, boltErr := findBolt(c.repo)
	vs := []*variant{
		{group: "ingress", name: "Maria ingress", run: func(ctx context.Context) (trial, error) { return ingressMaria(ctx, events) }},
		{group: "ingress", name: "raw JetStream sync publish", goal: "≥ 0.5×", run: func(ctx context.Context) (trial, error) { return ingressRawPublish(ctx, events) }},
		{group: "ingress", name: "Bolt-js " + boltVersion + " HTTP receiver", goal: "≥ 3×", skip: boltErr,
			run: func(ctx context.Context) (trial, error) { return ingressBolt(ctx, bolt, events) }},
		{group: "hop", name: "Maria bus.Processor", run: func(ctx context.Context) (trial, error) { return hopMaria(ctx, c.hopMessages) }},
		{group: "hop", name: "raw nats.go Consume", goal: "≥ 0.95×", run: func(ctx context.Context) (trial, error) { return hopRaw(ctx, c.hopMessages) }},
		{group: "hop", name: "Watermill + watermill-nats v2", goal: "≥ 1.5×", run: func(ctx context.Context) (trial, error) { return hopWatermill(ctx, c.hopMessages) }},
	}
	var bins turnBinaries
	var turns []turnResult
	var turnsSkipped error
	var sandboxes []sandboxResult
	runTurns := c.turnRate > 0 && strings.Contains("whole turn", c.only)
	runSandbox := c.sandboxEvents > 0 && strings.Contains("sandbox replay", c.only)
	if runTurns || runSandbox {
		dir, err := os.MkdirTemp("", "bench-compare-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(progress, "building maria and nats-server for the whole-turn and sandbox-replay trials")
		if bins, err = buildTurnBinaries(c.repo, dir); err != nil {
			// The other comparisons need no build: they still run, and
			// the table says why the whole turns did not.
			fmt.Fprintln(progress, "whole turns and sandbox replays skipped:", err)
			runTurns, runSandbox, turnsSkipped = false, false, err
		}
	}
	started := time.Now()
	for rep := range c.reps {
		// Rotate the order within each group so no variant always runs
		// first (warm caches, a fresh CPU quota) or last.
		for _, group := range [][]*variant{vs[:3], vs[3:]} {
			for i := range group {
				v := group[(i+rep)%len(group)]
				if v.skip != nil || !strings.Contains(v.name, c.only) {
					continue
				}
				t, err := v.run(ctx)
				if err != nil {
					return fmt.Errorf("%s, repetition %d: %w", v.name, rep+1, err)
				}
				v.trials = append(v.trials, t)
				fmt.Fprintf(progress, "rep %d  %-34s %10.0f/s  p99 %-9v  CPU %v/event\n", rep+1, v.name, t.rate, t.p99.Round(10*time.Microsecond), t.cpu.Round(time.Microsecond/10))
			}
		}
		if runTurns {
			t, err := wholeTurns(ctx, bins, c.turnRate, c.turnFor)
			if err != nil {
				return fmt.Errorf("whole turns, repetition %d: %w", rep+1, err)
			}
			turns = append(turns, t)
			fmt.Fprintf(progress, "rep %d  whole turns: %d/%d answered, %.1f/s at %.1f/s offered, p99 %v, CPU per turn: maria %v, nats-server %v\n",
				rep+1, t.answered, t.turns, t.completed, t.offered, t.p99.Round(time.Millisecond), t.mariaCPU.Round(10*time.Microsecond), t.natsCPU.Round(10*time.Microsecond))
		}
		if runSandbox {
			s, err := sandboxReplayTrial(ctx, bins, c.sandboxEvents)
			if err != nil {
				return fmt.Errorf("sandbox replay, repetition %d: %w", rep+1, err)
			}
			sandboxes = append(sandboxes, s)
			fmt.Fprintf(progress, "rep %d  sandbox replay of %d events: %.0f/s (%s), dry-run scan %.0f/s\n", rep+1, s.events, s.sandbox, s.timings, s.scan)
		}
	}
	sandboxSkipped := turnsSkipped
	if c.sandboxEvents == 0 {
		sandboxSkipped = errors.New("-sandbox-events 0")
	}
	table := render(c, vs, time.Since(started)) + renderTurns(c, turns, turnsSkipped) + renderSandbox(c, sandboxes, sandboxSkipped)
	if _, err := io.WriteString(out, table); err != nil {
		return err
	}
	if c.results != "" {
		return writeSection(c.results, table)
	}
	return nil
}

// boltVersion is the Bolt-js pinned in bolt/package.json.
const boltVersion = "5.1.0"

// render is the markdown table of one run, with the machine described.
func render(c runConfig, vs []*variant, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s on %d cores (%s, %s/%s), %d repetitions interleaved, a fresh nats-server per trial; took %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, c.reps, took.Round(time.Second))
	fmt.Fprintf(&b, "Ingress: %d signed `app_mention` callbacks per trial over %d connections; hop: %d stored messages drained by %d workers.\n\n",
		c.ingressEvents, ingressConns, c.hopMessages, hopWorkers)
	b.WriteString("| comparison | variant | median | spread | p99 | CPU per event | Maria ÷ variant | goal |\n|---|---|---|---|---|---|---|---|\n")
	for _, group := range [][]*variant{vs[:3], vs[3:]} {
		maria := summarize(group[0].trials)
		for _, v := range group {
			label := map[string]string{"ingress": "ingress, events/s", "hop": "processor hop, msg/s"}[v.group]
			if v.skip != nil {
				fmt.Fprintf(&b, "| %s | %s | not run: %v | | | | | %s |\n", label, v.name, v.skip, v.goal)
				continue
			}
			s := summarize(v.trials)
			p99, ratio := "—", "—"
			if s.p99 > 0 {
				p99 = fmt.Sprintf("%.1f ms", float64(s.p99)/float64(time.Millisecond))
			}
			if v != group[0] && s.rate > 0 && maria.rate > 0 {
				ratio = fmt.Sprintf("%.2f×", maria.rate/s.rate)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.1f µs | %s | %s |\n", label, v.name, thousands(s.rate), s.spread(), p99,
				float64(s.cpu)/float64(time.Microsecond), ratio, v.goal)
		}
	}
	b.WriteString("\nCPU per event is this process' user + system time over the events measured: the receiver, the in-process nats-server and the load generator together (for Bolt-js, the load generator's plus node's); it is steadier than a rate on a shared machine.\n")
	return b.String()
}

// renderTurns is the whole-turn table (medians of the repetitions).
func renderTurns(c runConfig, ts []turnResult, skipped error) string {
	var b strings.Builder
	if skipped != nil {
		first, _, _ := strings.Cut(skipped.Error(), "\n")
		fmt.Fprintf(&b, "\nWhole turns: not run (%s).\n", first)
	}
	if len(ts) > 0 {
		med := func(f func(turnResult) float64) float64 { return medianOf(ts, f) }
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		fmt.Fprintf(&b, "\nWhole turns: `maria run` (every default service, one process) against a nats-server process, simulators answering at once; %.0f turns/s offered for %s, each a new conversation with one ERP read; CPU per answered turn from /proc (utime + stime).\n\n", c.turnRate, c.turnFor)
		b.WriteString("| offered | completed | p99 turn latency | answered | Maria CPU per turn | nats-server CPU per turn | Maria peak RSS |\n|---|---|---|---|---|---|---|\n")
		b.WriteString("| goal: 100 turns/s | ≥ offered | ≤ 100 ms | all | ≤ 4 ms | ≤ 5 ms | ≤ 64 MiB |\n")
		fmt.Fprintf(&b, "| %.1f turns/s | %.1f turns/s | %.0f ms | %.0f of %d | %.2f ms | %.2f ms | %.1f MiB |\n",
			med(func(t turnResult) float64 { return t.offered }), med(func(t turnResult) float64 { return t.completed }),
			med(func(t turnResult) float64 { return ms(t.p99) }), med(func(t turnResult) float64 { return float64(t.answered) }), ts[0].turns,
			med(func(t turnResult) float64 { return ms(t.mariaCPU) }), med(func(t turnResult) float64 { return ms(t.natsCPU) }),
			med(func(t turnResult) float64 { return float64(t.mariaPeakRSS) / (1 << 20) }))
	}
	return b.String()
}

func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// findRepo walks up from the working directory to the directory holding go.work.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.work not found above the working directory: pass -repo")
		}
		dir = parent
	}
}
