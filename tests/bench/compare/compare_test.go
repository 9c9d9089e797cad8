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
