package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The program end to end at a tiny size: every variant runs (Bolt-js when
// installed), each trial's durability check passes, and the table and the
// RESULTS.md section come out. No ratio is asserted: timed figures never
// decide a build.
func TestBenchCompareSmoke(t *testing.T) {
	results := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(results, []byte("# Benchmark results\n\nkept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	c := runConfig{reps: 1, ingressEvents: 100, hopMessages: 200, results: results}
	if err := run(ctx, c, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ingress, events/s | Maria ingress |", "| ingress, events/s | raw JetStream sync publish |",
		"| processor hop, msg/s | Maria bus.Processor |", "| processor hop, msg/s | raw nats.go Consume |",
		"| processor hop, msg/s | Watermill + watermill-nats v2 |", "Bolt-js 5.1.0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	// A second run replaces the section instead of appending another.
	if err := writeSection(results, "second\n"); err != nil {
		t.Fatal(err)
	}
	doc, _ := os.ReadFile(results)
	if s := string(doc); !strings.HasPrefix(s, "# Benchmark results\n\nkept\n") || strings.Count(s, sectionBegin) != 1 ||
		!strings.Contains(s, sectionBegin+"\nsecond\n"+sectionEnd) {
		t.Errorf("RESULTS.md after two runs:\n%s", s)
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		rates      []float64
		median, lo float64
	}{
		{[]float64{3, 1, 2}, 2, 1},
		{[]float64{4, 1, 3, 2}, 2.5, 1},
		{[]float64{5}, 5, 5},
	} {
		ts := make([]trial, len(tc.rates))
		for i, r := range tc.rates {
			ts[i] = trial{rate: r}
		}
		if s := summarize(ts); s.rate != tc.median || s.lo != tc.lo {
			t.Errorf("summarize(%v) = %+v, want median %v, min %v", tc.rates, s, tc.median, tc.lo)
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 25400.4: "25,400", 1234567: "1,234,567"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

// childCPU reads a process' CPU time from /proc: this test's own, which
// must be positive after it burnt some.
func TestChildCPU(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	got, err := childCPU(os.Getpid())
	if err != nil || got <= 0 {
		t.Fatalf("childCPU(self) = %v, %v", got, err)
	}
}

// The whole-turn trial end to end at a tiny rate: maria and nats-server
// built and started as processes, a few turns answered, CPU read from
// /proc. It builds two binaries, so -short skips it.
func TestWholeTurnsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds maria and nats-server")
	}
	repo, err := findRepo()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := buildTurnBinaries(repo, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := wholeTurns(ctx, bins, 5, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.answered != r.turns || r.turns != 5 {
		t.Errorf("%d of %d turns answered, want 5 of 5", r.answered, r.turns)
	}
	if r.mariaCPU <= 0 || r.natsCPU <= 0 {
		t.Errorf("CPU per turn: maria %v, nats-server %v; want both measured", r.mariaCPU, r.natsCPU)
	}
}
