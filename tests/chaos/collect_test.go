package chaos

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/tests/sim/slacksim"
)

// outcome is what Slack shows in one conversation's thread.
type outcome struct {
	replies    int  // Maria's messages in the thread
	answered   bool // one of them is the finished answer (names the order)
	unfinished int  // streams started and never stopped
}

// finished reports whether the thread shows a reply the user can read to
// the end: the answer, or Maria saying she cannot answer now.
func (o outcome) finished() bool { return o.replies > o.unfinished }

// observe reads the thread of c from the simulator's messages of its channel.
func observe(c *conv, msgs []slacksim.Message) outcome {
	var o outcome
	for _, m := range msgs {
		if m.BotID != slacksim.BotID || m.ThreadTS != c.threadTS || m.TS == c.threadTS {
			continue
		}
		o.replies++
		if m.Stream && m.Streaming {
			o.unfinished++
			continue
		}
		if strings.Contains(m.Text, c.order) {
			o.answered = true
		}
	}
	return o
}

// watcher records when each conversation was first seen with a finished
// reply, so latency is measured from the question to what the user reads.
type watcher struct {
	slack *slacksim.Sim
	mu    sync.Mutex
	convs map[string]*conv // by thread ts
	at    map[string]time.Time
}

func newWatcher(slack *slacksim.Sim) *watcher {
	return &watcher{slack: slack, convs: map[string]*conv{}, at: map[string]time.Time{}}
}

// add starts watching a sent conversation.
func (w *watcher) add(c *conv) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.convs[c.threadTS] = c
}

// run rechecks the open conversations at every Slack call until ctx ends.
func (w *watcher) run(ctx context.Context) {
	for {
		changed := w.slack.Changed()
		w.check()
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

func (w *watcher) check() {
	w.mu.Lock()
	open := map[string][]*conv{}
	for ts, c := range w.convs {
		if _, done := w.at[ts]; !done {
			open[c.channel] = append(open[c.channel], c)
		}
	}
	w.mu.Unlock()
	now := time.Now()
	for ch, convs := range open {
		msgs := w.slack.Messages(ch)
		for _, c := range convs {
			if observe(c, msgs).finished() {
				w.mu.Lock()
				w.at[c.threadTS] = now
				w.mu.Unlock()
			}
		}
	}
}

// repliedAt is when c was first seen with a finished reply.
func (w *watcher) repliedAt(c *conv) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.at[c.threadTS]
	return t, ok
}

// pending counts the watched conversations without a finished reply yet.
func (w *watcher) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.convs) - len(w.at)
}

// percentile of sorted durations (nearest rank); 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}
