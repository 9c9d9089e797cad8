package ai

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	openai "github.com/sashabaranov/go-openai"
)

// A turn waits out a short outage of the model or the ERP instead of
// answering that they are unavailable: a restart, a failover or a 10-s
// network blip is over before a person gives up on an answer, while a
// degraded answer sent at the first failure makes them ask again anyway.
//
// The wait is bounded per turn (Config.DependencyPatience) and counted from
// when the question arrived (the envelope's time), so a question redelivered
// to another replica does not wait afresh. While it waits, the thread's
// status says so, and the runtime's heartbeat keeps the delivery in
// progress, so no redelivery starts a second turn; the wait holds one
// worker, and per-key scheduling keeps the other threads moving on the
// others. Only transient failures are waited for: the model's 429, 5xx,
// timeouts and network errors (LLMError.transient) and an ERP reply of kind
// "unavailable" (the query service not running or not answering in time,
// Odoo unreachable or its circuit open). Refusals, access errors and bad
// requests are final at once.

// dependency is what a turn may wait for.
type dependency string

const (
	depModel dependency = "model"
	depERP   dependency = "erp"
)

// waitStatus is the thread status while the turn waits for a dependency.
func (d dependency) waitStatus() string {
	if d == depERP {
		return "is waiting for the ERP to come back…"
	}
	return "is waiting for the AI service to come back…"
}

// Retry spacing while waiting: short first, and never so long apart that a
// dependency that came back stays unused for more than a couple of seconds.
const (
	waitFirst = 500 * time.Millisecond
	waitMax   = 2 * time.Second
)

// patience is one turn's budget for waiting out transient failures. Its
// methods are safe for the turn's concurrent tool calls; a nil patience
// never waits.
type patience struct {
	start, deadline time.Time
	now             func() time.Time
	sleep           func(ctx context.Context, d time.Duration) error
	// status shows the user that the turn waits (the thread status); key is
	// the command's key, the same on every delivery that waits alike.
	status func(key, status string) error

	mu sync.Mutex
	// waiting is the dependencies the current status is about; outages
	// counts each dependency's announced outages (for the status keys).
	waiting map[dependency]bool
	outages map[dependency]int
}

// patienceFor is the budget of the turn answering m.
func (p *Processor) patienceFor(m *bus.Msg, status func(key, status string) error) *patience {
	start := m.Env.Time
	if start.IsZero() {
		start = p.now()
	}
	return &patience{start: start, deadline: start.Add(p.cfg.DependencyPatience), now: p.now, sleep: p.sleep, status: status,
		waiting: map[dependency]bool{}, outages: map[dependency]int{}}
}

// newWaitBackOff spaces one call's retries.
func newWaitBackOff() backoff.BackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = waitFirst
	bo.MaxInterval = waitMax
	bo.MaxElapsedTime = 0 // the turn's deadline decides
	bo.Reset()
	return bo
}

// wait sleeps before the next attempt of a call to dep that failed
// transiently: as long as the server asked (retryAfter) or else bo's next
// interval, cut at the deadline. It reports false, without waiting, when
// the budget is spent or the server asks for a wait beyond it (waiting
// would only delay the same answer).
func (pt *patience) wait(ctx context.Context, dep dependency, bo backoff.BackOff, retryAfter time.Duration) (bool, error) {
	if pt == nil {
		return false, nil
	}
	left := pt.deadline.Sub(pt.now())
	d := retryAfter
	switch {
	case left <= 0 || d > left:
		metricDependencyGaveUp.WithLabelValues(string(dep)).Inc()
		return false, nil
	case d <= 0:
		d = min(bo.NextBackOff(), left)
	}
	if err := pt.announce(dep); err != nil {
		return false, err
	}
	metricDependencyWaits.WithLabelValues(string(dep)).Inc()
	if err := pt.sleep(ctx, d); err != nil {
		return false, err
	}
	return true, nil
}

// announce sets the thread status at the start of each outage of dep.
func (pt *patience) announce(dep dependency) error {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.waiting[dep] {
		return nil
	}
	pt.outages[dep]++
	if err := pt.status(fmt.Sprintf("status-wait-%s-%d", dep, pt.outages[dep]), dep.waitStatus()); err != nil {
		return err
	}
	pt.waiting[dep] = true
	return nil
}

// recovered notes that a call to dep succeeded: a later failure is a new
// outage, announced again.
func (pt *patience) recovered(dep dependency) {
	if pt == nil {
		return
	}
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.waiting[dep] = false
}

// waited is how long the turn has been going, for the degraded answer.
func (pt *patience) waited() time.Duration {
	if pt == nil {
		return 0
	}
	return pt.now().Sub(pt.start)
}

// transient reports a failure worth waiting out: the kinds the client
// retries itself, and the client giving up on one of them.
func (e *LLMError) transient() bool {
	if e.retryable() {
		return true
	}
	var cause *LLMError
	return e.Kind == FailExhausted && errors.As(e.Err, &cause) && cause.retryable()
}

// failureReason says in a few words how a transient failure showed, once
// the turn stopped waiting for it to pass.
func failureReason(le *LLMError) string {
	kind := le.Kind
	var cause *LLMError
	if kind == FailExhausted && errors.As(le.Err, &cause) {
		kind = cause.Kind
	}
	switch kind {
	case FailRateLimited:
		return "it keeps asking me to slow down (rate limited)"
	case FailServer:
		return "it keeps failing with server errors"
	case FailTimeout:
		return "it does not answer in time"
	case FailNetwork:
		return "it cannot be reached"
	}
	return ""
}

// complete is one model call of the turn, repeated while the model fails
// transiently and the turn's patience lasts. A call that streamed part of
// the answer before failing is not repeated: it would repeat the text.
func (p *Processor) complete(ctx context.Context, req openai.ChatCompletionRequest, st *streamer, pt *patience) (*Completion, error) {
	var bo backoff.BackOff
	for {
		var pubErr error
		wrote := false
		comp, err := p.model.Stream(ctx, req, func(d string) {
			wrote = true
			if pubErr == nil {
				pubErr = st.Write(ctx, d)
			}
		})
		if pubErr != nil {
			return nil, pubErr
		}
		if err == nil {
			pt.recovered(depModel)
			return comp, nil
		}
		var le *LLMError
		if !errors.As(err, &le) {
			le = &LLMError{Kind: FailNetwork, Err: err}
		}
		if wrote || !le.transient() {
			return nil, le
		}
		if bo == nil {
			bo = newWaitBackOff()
		}
		again, werr := pt.wait(ctx, depModel, bo, le.RetryAfter)
		switch {
		case ctx.Err() != nil:
			return nil, &LLMError{Kind: FailCanceled, Err: ctx.Err()}
		case werr != nil:
			return nil, werr // the status could not be published: retry the turn
		case !again:
			return nil, le
		}
	}
}

// queryERP is one ERP read, repeated while the ERP is unavailable and the
// turn's patience lasts. When it runs out, the reply tells the model (and
// through it the user) that the ERP is down and to ask again later.
func (r *toolRunner) queryERP(ctx context.Context, q schemas.ERPQuery) (*schemas.ERPReply, error) {
	var bo backoff.BackOff
	for {
		reply, err := r.erp.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		if reply.Kind != "unavailable" {
			r.patience.recovered(depERP)
			return reply, nil
		}
		if bo == nil {
			bo = newWaitBackOff()
		}
		again, err := r.patience.wait(ctx, depERP, bo, 0)
		if err != nil {
			return nil, err
		}
		if !again {
			reply.Error = gaveUpText(reply.Error, r.patience.waited())
			return reply, nil
		}
	}
}

// gaveUpText is an unavailable ERP's error once the turn stops waiting.
func gaveUpText(reason string, waited time.Duration) string {
	if waited < time.Second {
		return reason + " (the user can ask again in a few minutes)"
	}
	return fmt.Sprintf("%s (still unavailable after %s of retries; the user can ask again in a few minutes)", reason, waited.Round(time.Second))
}
