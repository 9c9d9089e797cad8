package chaos

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// scenario is one row of the table: an environment, a steady fault and
// timed events, under a stream of conversations.
type scenario struct {
	name     string
	cluster  bool
	fallback bool // Slack refuses native streams: post-then-update
	// setup installs a fault that stays for the whole run.
	setup func(e *env)
	// events happen at fractions of the sending window.
	events []event
}

// event is one timed fault. With every set it repeats until the sending
// window ends.
type event struct {
	at    float64
	every time.Duration
	what  string
	do    func(ctx context.Context, e *env) error
}

// load is how much a scenario sends and how long it may take.
type load struct {
	convs  int
	window time.Duration // conversations are spread over it
	settle time.Duration // longest wait after the last question
	// timeline writes each conversation's timeline into the scenario's
	// directory (CHAOS_LOGS) and the slowest ones into the row's notes.
	timeline bool
}

// row is a scenario's result.
type row struct {
	scenario                                                string
	sent, once, lost, duplicated, unfinished, degraded, dlq int
	refused                                                 int // questions ingress never accepted, Slack's retries included
	p50, p99                                                time.Duration
	elapsed                                                 time.Duration
	notes                                                   []string
	timeline                                                string   // the slowest conversations' timelines (load.timeline)
	observed                                                []string // facts measured during the faults (env.observe)
}

// meetsGoal is issue 16's promise: nothing lost, nothing twice, no stream
// left open (a degraded answer — Maria saying the ERP or the model is
// unavailable — is an answer).
func (r row) meetsGoal() bool {
	return r.lost == 0 && r.duplicated == 0 && r.unfinished == 0 && len(r.notes) == 0
}

// run executes sc in a fresh environment under dir.
func run(ctx context.Context, bin binaries, dir string, sc scenario, l load) row {
	began := time.Now()
	r := row{scenario: sc.name}
	e, err := startEnv(ctx, bin, dir, envOptions{cluster: sc.cluster})
	if err != nil {
		r.notes = append(r.notes, "environment: "+err.Error())
		return r
	}
	defer e.close()
	if sc.fallback {
		for _, ch := range channels {
			e.sims.slack.DisableStreaming(ch, "")
		}
	}
	if sc.setup != nil {
		sc.setup(e)
	}
	w := newWatcher(e.sims.slack)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go w.run(wctx)

	var mu sync.Mutex
	note := func(s string) { mu.Lock(); r.notes = append(r.notes, s); mu.Unlock() }
	start := time.Now()
	windowEnd := start.Add(l.window)
	var faults sync.WaitGroup
	flog := &e.faults
	for _, ev := range sc.events {
		faults.Go(func() {
			next := start.Add(time.Duration(ev.at * float64(l.window)))
			for {
				if sleepCtx(ctx, time.Until(next)) != nil {
					return
				}
				began := time.Now()
				err := ev.do(ctx, e)
				flog.add(ev.what, began, time.Now())
				if err != nil {
					note(fmt.Sprintf("%s: %v", ev.what, err))
					return
				}
				next = next.Add(ev.every)
				if ev.every <= 0 || next.After(windowEnd) {
					return
				}
			}
		})
	}
	convs := sendAll(ctx, e, w, l.convs, l.window)
	faults.Wait()
	waitSettled(ctx, e, w, time.Now().Add(l.settle))
	stopWatch()
	r.fill(e, w, convs)
	e.mu.Lock()
	r.observed = append(r.observed, e.observed...)
	e.mu.Unlock()
	if l.timeline {
		if r.timeline, err = writeTimeline(ctx, e, dir, start, convs, w, flog); err != nil {
			note("timeline: " + err.Error())
		}
	}
	if n, err := e.deadLetters(ctx); err != nil {
		note("dead letters: " + err.Error())
	} else {
		r.dlq = int(n)
	}
	r.elapsed = time.Since(began)
	return r
}

// waitSettled waits until every conversation has a finished reply and no consumer
// holds work (nothing can still reach Slack), or the deadline.
func waitSettled(ctx context.Context, e *env, w *watcher, deadline time.Time) {
	for time.Now().Before(deadline) {
		if w.pending() == 0 {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			idle, err := e.idle(cctx)
			cancel()
			if err == nil && idle {
				return
			}
		}
		if sleepCtx(ctx, 250*time.Millisecond) != nil {
			return
		}
	}
}

// fill classifies every conversation from what Slack finally shows.
func (r *row) fill(e *env, w *watcher, convs []*conv) {
	byChannel := map[string]bool{}
	for _, c := range convs {
		byChannel[c.channel] = true
	}
	var lat []time.Duration
	for ch := range byChannel {
		all := e.sims.slack.Messages(ch)
		for _, c := range convs {
			if c.channel != ch {
				continue
			}
			r.sent++
			if !c.accepted {
				r.refused++
			}
			o := observe(c, all)
			switch {
			case !o.finished():
				r.lost++
			case o.replies == 1 && o.answered:
				r.once++
			case o.replies == 1:
				r.degraded++
			}
			if o.replies >= 2 {
				r.duplicated++
			}
			if o.unfinished > 0 {
				r.unfinished++
			}
			if at, ok := w.repliedAt(c); ok {
				lat = append(lat, at.Sub(c.sent))
			}
		}
	}
	sortDurations(lat)
	r.p50, r.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
}
