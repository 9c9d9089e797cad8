package main

import (
	"fmt"
	"slices"
	"time"
)

// trial is one measured run of one variant.
type trial struct {
	rate float64       // events or messages per second
	p99  time.Duration // 0 when the variant has no per-request latency
	// cpu is the process' CPU time per event while measuring (for an
	// out-of-process receiver such as Bolt-js, only the generator's).
	cpu time.Duration
}

// summary is the median and spread of a variant's trials.
type summary struct {
	rate, lo, hi float64
	p99, cpu     time.Duration
	n            int
}

func summarize(ts []trial) summary {
	if len(ts) == 0 {
		return summary{}
	}
	rates := make([]float64, len(ts))
	p99s := make([]time.Duration, len(ts))
	cpus := make([]time.Duration, len(ts))
	for i, t := range ts {
		rates[i], p99s[i], cpus[i] = t.rate, t.p99, t.cpu
	}
	slices.Sort(rates)
	slices.Sort(p99s)
	slices.Sort(cpus)
	return summary{rate: median(rates), lo: rates[0], hi: rates[len(rates)-1], p99: median(p99s), cpu: median(cpus), n: len(ts)}
}

func median[T float64 | time.Duration](sorted []T) T {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// spread is (max − min) / median, the honest width of three samples.
func (s summary) spread() string {
	if s.rate == 0 {
		return "—"
	}
	return fmt.Sprintf("±%.0f %%", 50*(s.hi-s.lo)/s.rate)
}

// percentile returns the p-th percentile (0–100) of latencies (sorted in place).
func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	i := int(float64(len(lat))*p/100+0.5) - 1
	return lat[min(max(i, 0), len(lat)-1)]
}
