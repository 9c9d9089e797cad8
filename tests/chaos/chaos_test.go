package chaos

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestChaosShort is the chaos suite's part of `make test`: single node, a
// few conversations, the faults today's code survives — asserted.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: starts nats-server and five maria processes")
	}
	bin := build(t)
	l := load{convs: 20, window: 5 * time.Second, settle: 90 * time.Second}
	for _, sc := range shortScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			r := run(ctx, bin, scenarioDir(t), sc, l)
			t.Log(r)
			if !r.meetsGoal() || r.once != r.sent || r.sent != l.convs {
				t.Errorf("%s: want %d answered exactly once, nothing lost, duplicated or left streaming:\n%s", sc.name, l.convs, r)
			}
		})
	}
}

// TestChaos is `make chaos`: every scenario, the table printed and, with
// CHAOS_RESULTS set, written there. It fails only with CHAOS_STRICT=1 (the
// goal is not met by today's code; the table measures it).
func TestChaos(t *testing.T) {
	if os.Getenv("CHAOS") != "1" {
		t.Skip("the full chaos suite runs with `make chaos` (CHAOS=1)")
	}
	bin := build(t)
	l := load{convs: envInt(t, "CHAOS_CONVERSATIONS", 100), window: 20 * time.Second, settle: 150 * time.Second,
		timeline: os.Getenv("CHAOS_LOGS") != ""}
	only, err := regexp.Compile(os.Getenv("CHAOS_ONLY")) // e.g. CHAOS_ONLY='kill -9 egress'
	if err != nil {
		t.Fatalf("CHAOS_ONLY: %v", err)
	}
	began := time.Now()
	var rows []row
	for _, sc := range fullScenarios() {
		if !only.MatchString(sc.name) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		r := run(ctx, bin, scenarioDir(t), sc, l)
		cancel()
		t.Log(r)
		if r.timeline != "" {
			t.Log(r.timeline)
		}
		rows = append(rows, r)
	}
	t.Log("\n" + tableHeader + func() string {
		s := ""
		for _, r := range rows {
			s += r.markdown()
		}
		return s
	}())
	if path := os.Getenv("CHAOS_RESULTS"); path != "" {
		if err := writeResults(path, rows, l, time.Since(began)); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getenv("CHAOS_STRICT") == "1" {
		for _, r := range rows {
			if !r.meetsGoal() {
				t.Errorf("CHAOS_STRICT: %s", r)
			}
		}
	}
}

// scenarioDir holds a scenario's configs, stores and process logs: kept
// under CHAOS_LOGS when set, else removed with the test.
func scenarioDir(t *testing.T) string {
	if base := os.Getenv("CHAOS_LOGS"); base != "" {
		dir, err := os.MkdirTemp(base, "scenario-")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("scenario files in %s", dir)
		return dir
	}
	return filepath.Clean(t.TempDir())
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
