package chaos

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// orders of the Odoo simulator's demo data: each question asks for one,
// and its answer is recognised by the order's name.
var orders = []string{"S00042", "S00043", "S00044", "S00045", "S00046"}

// channels the conversations are spread over (Slack rate-limits per channel).
var channels = []string{"C0CHAOS1", "C0CHAOS2", "C0CHAOS3", "C0CHAOS4"}

// conv is one conversation: a question mentioning Maria at the top of its
// own thread.
type conv struct {
	i        int
	channel  string
	user     string
	order    string
	threadTS string
	sent     time.Time
	accepted bool // ingress answered 2xx (after Slack-like retries)
	// acceptedAt is when ingress answered 2xx; eventID is Slack's
	// event_id and turn the correlation id of everything Maria does for
	// it (schemas.SlackMessageTurn of the message).
	acceptedAt time.Time
	eventID    string
	turn       string
	err        error
}

func newConv(i int) *conv {
	return &conv{i: i, channel: channels[i%len(channels)], user: fmt.Sprintf("U0C%05d", i), order: orders[i%len(orders)]}
}

// retryWaits are Slack's redeliveries of an unacknowledged event (at once,
// after 1 and 5 minutes), compressed to the suite's time scale.
var retryWaits = []time.Duration{500 * time.Millisecond, 2 * time.Second, 5 * time.Second}

// send posts the question as Slack does: the message exists in the
// channel, then the signed app_mention event reaches ingress; a failed
// delivery (no answer, non-2xx) is retried with X-Slack-Retry-Num.
func (c *conv) send(ctx context.Context, slack *slacksim.Sim, events *slackevents.Client, w *watcher) {
	text := events.MentionText("What is the status of " + c.order + "?")
	c.threadTS = slack.AddUserMessage(c.channel, c.user, text, "")
	c.sent = time.Now()
	w.add(c)
	body, eventID := events.Callback(slackevents.AppMentionEvent(slacksim.TeamID, c.channel, c.user, text, c.threadTS, ""))
	c.eventID, c.turn = eventID, schemas.SlackMessageTurn(slacksim.TeamID, c.channel, c.threadTS)
	for attempt := 0; ; attempt++ {
		var opts []slackevents.Option
		if attempt > 0 {
			opts = append(opts, slackevents.WithRetry(attempt, "http_timeout"))
		}
		status, _, err := events.PostEvent(ctx, body, opts...)
		if err == nil && status == http.StatusOK {
			c.accepted, c.acceptedAt, c.err = true, time.Now(), nil
			return
		}
		if err == nil {
			err = fmt.Errorf("ingress answered %d", status)
		}
		c.err = err
		if attempt >= len(retryWaits) || sleepCtx(ctx, retryWaits[attempt]) != nil {
			return
		}
	}
}

// sendAll sends n conversations evenly over window, each in its own
// goroutine (a slow delivery does not delay the next question).
func sendAll(ctx context.Context, e *env, w *watcher, n int, window time.Duration) []*conv {
	convs := make([]*conv, n)
	var wg sync.WaitGroup
	gap := window / time.Duration(max(n, 1))
	start := time.Now()
	for i := range convs {
		convs[i] = newConv(i)
		if err := sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*gap))); err != nil {
			convs[i].err = err
			continue
		}
		wg.Go(func() { convs[i].send(ctx, e.sims.slack, e.events, w) })
	}
	wg.Wait()
	return convs
}
