package main

import (
	"context"
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
}

// variant is one side of a comparison.
type variant struct {
	group, name string
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
		{group: "ingress", name: "raw JetStream sync publish", run: func(ctx context.Context) (trial, error) { return ingressRawPublish(ctx, events) }},
		{group: "ingress", name: "Bolt-js " + boltVersion + " HTTP receiver", skip: boltErr,
			run: func(ctx context.Context) (trial, error) { return ingressBolt(ctx, bolt, events) }},
		{group: "hop", name: "Maria bus.Processor", run: func(ctx context.Context) (trial, error) { return hopMaria(ctx, c.hopMessages) }},
		{group: "hop", name: "raw nats.go Consume", run: func(ctx context.Context) (trial, error) { return hopRaw(ctx, c.hopMessages) }},
		{group: "hop", name: "Watermill + watermill-nats v2", run: func(ctx context.Context) (trial, error) { return hopWatermill(ctx, c.hopMessages) }},
	}
	started := time.Now()
	for rep := range c.reps {
		// Rotate the order within each group so no variant always runs
		// first (warm caches, a fresh CPU quota) or last.
		for _, group := range [][]*variant{vs[:3], vs[3:]} {
			for i := range group {
				v := group[(i+rep)%len(group)]
				if v.skip != nil {
					continue
				}
				t, err := v.run(ctx)
				if err != nil {
					return fmt.Errorf("%s, repetition %d: %w", v.name, rep+1, err)
				}
				v.trials = append(v.trials, t)
				fmt.Fprintf(progress, "rep %d  %-34s %10.0f/s  p99 %v\n", rep+1, v.name, t.rate, t.p99.Round(10*time.Microsecond))
			}
		}
	}
	table := render(c, vs, time.Since(started))
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
	b.WriteString("| comparison | variant | median | spread | p99 | Maria ÷ variant |\n|---|---|---|---|---|---|\n")
	for _, group := range [][]*variant{vs[:3], vs[3:]} {
		maria := summarize(group[0].trials)
		for _, v := range group {
			label := map[string]string{"ingress": "ingress, events/s", "hop": "processor hop, msg/s"}[v.group]
			if v.skip != nil {
				fmt.Fprintf(&b, "| %s | %s | not run: %v | | | |\n", label, v.name, v.skip)
				continue
			}
			s := summarize(v.trials)
			p99, ratio := "—", "—"
			if s.p99 > 0 {
				p99 = fmt.Sprintf("%.1f ms", float64(s.p99)/float64(time.Millisecond))
			}
			if v != group[0] && s.rate > 0 {
				ratio = fmt.Sprintf("%.2f×", maria.rate/s.rate)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", label, v.name, thousands(s.rate), s.spread(), p99, ratio)
		}
	}
	b.WriteString("\nTODO(issue 17): CPU per whole turn (`maria run` with simulators answering at once; Maria and nats-server CPU per turn from /proc, turns/s and p99 at 100 turns/s offered) and sandbox replay events/s are not measured by this program yet.\n")
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
