package ops

import (
	"context"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus"
)

// SandboxReplayOptions tune SandboxReplay.
type SandboxReplayOptions struct {
	Sandbox SandboxOptions
	Replay  ReplayOptions
	// Quiet is how long the sandbox must stay idle to be done (default
	// DefaultSandboxQuiet); Timeout bounds the wait (default 2m).
	Quiet, Timeout time.Duration
}

// DefaultSandboxQuiet is how long a sandbox must stay idle — every consumer
// caught up with nothing unacknowledged, no stream growing — before its
// outputs are compared. Idle is read from the consumers' own counts, so
// the quiet period only has to outlast what a service does after acking
// its last message (a few milliseconds: the erp's audit record), not the
// processing itself.
const DefaultSandboxQuiet = 250 * time.Millisecond

// SandboxTimings say where a sandbox replay's time went: starting the
// sandbox (its server, the services' probes, the services), publishing the
// selection into it, settling (the services processing it, then the quiet
// period), and comparing (both runs' outputs, the dead letters).
type SandboxTimings struct {
	StartMS   int64 `json:"start_ms"`
	PublishMS int64 `json:"publish_ms"`
	SettleMS  int64 `json:"settle_ms"`
	CompareMS int64 `json:"compare_ms"`
}

func (t SandboxTimings) String() string {
	s := func(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }
	return fmt.Sprintf("start %s, publish %s, settle %s, compare %s", s(t.StartMS), s(t.PublishMS), s(t.SettleMS), s(t.CompareMS))
}

// SandboxReplay is the incident debugging loop: start a sandbox, replay the
// selected messages of the live stream into it, wait until it settles, and
// compare per correlation id what the sandbox produced with what the
// original run produced.
func SandboxReplay(ctx context.Context, live *bus.Bus, stream string, sel []Selected, o SandboxReplayOptions) (*SandboxReport, error) {
	if o.Quiet <= 0 {
		o.Quiet = DefaultSandboxQuiet
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	o.Replay.Mode = ToSandbox
	keys := selectionKeys(sel)
	// What the original run produced does not depend on the sandbox: read
	// it while the sandbox works (and stop reading if the replay fails).
	orig := readOriginal(ctx, live, keys)
	defer orig.stop()
	t0 := time.Now()
	sb, err := StartSandbox(ctx, o.Sandbox)
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	rep := &SandboxReport{RunID: o.Replay.RunID, Stream: stream, Services: sb.Started, Skipped: sb.Skipped}
	rep.Timings.StartMS = time.Since(t0).Milliseconds()
	// Processors declare their consumers as they start: let that settle
	// while the replay goes on (a late consumer still sees every replayed
	// message: they deliver from the start), so the report says who
	// consumes the stream and the sandbox is not judged quiet before every
	// consumer exists.
	consumers := make(chan error, 1)
	go func() {
		var err error
		rep.Consumers, err = sb.settledConsumers(ctx, stream, 300*time.Millisecond, 10*time.Second)
		consumers <- err
	}()
	// A replayed response_url may still be valid: the sandbox gets its
	// Slack sink's instead, where any call is recorded and refused.
	o.Replay.SandboxResponseURL = sb.Slack.URL() + "response_url"
	t0 = time.Now()
	rep.Replay, err = Replay(ctx, live.JetStream(), stream, sel, sb.Bus, o.Replay)
	rep.Timings.PublishMS = time.Since(t0).Milliseconds()
	if cerr := <-consumers; err == nil && cerr != nil {
		err = fmt.Errorf("sandbox consumers: %w", cerr)
	}
	if err != nil {
		return rep, err
	}
	if err := sb.WaitQuiet(ctx, o.Quiet, o.Timeout); err != nil {
		if ctx.Err() != nil {
			return rep, err
		}
		rep.QuietError = err.Error()
	}
	rep.Timings.SettleMS = time.Since(t0).Milliseconds() - rep.Timings.PublishMS
	t0 = time.Now()
	err = rep.compare(ctx, sb, sel, keys, orig)
	rep.Timings.CompareMS = time.Since(t0).Milliseconds()
	return rep, err
}

// compare diffs, per correlation id, what the sandbox produced with what
// the original run did, and adds the sandbox's dead letters and the
// outside calls it refused.
func (rep *SandboxReport) compare(ctx context.Context, sb *Sandbox, sel []Selected, keys outputKeys, orig *originalOutputs) error {
	sandboxOut, err := CollectOutputs(ctx, sb.Bus.JetStream(), OutputStreams, time.Time{}, keys.corrs, keys.inputs)
	if err != nil {
		return fmt.Errorf("sandbox outputs: %w", err)
	}
	origOut, err := orig.wait()
	if err != nil {
		return fmt.Errorf("original outputs: %w", err)
	}
	rep.Diffs = DiffRuns(sel, origOut, sandboxOut)
	for _, d := range rep.Diffs {
		rep.Differences += d.Differences
	}
	if rep.DeadLetters, err = ListDLQ(ctx, sb.Bus.JetStream(), "", "", time.Time{}); err != nil {
		return fmt.Errorf("sandbox dead letters: %w", err)
	}
	rep.SlackBlocked = sb.Slack.Calls()
	if sb.Odoo != nil {
		rep.OdooRefused = sb.Odoo.Refused()
	}
	return nil
}

// originalOutputs are the original run's outputs, read in the background.
type originalOutputs struct {
	cancel context.CancelFunc
	done   chan struct{}
	out    map[string][]Output
	err    error
}

func readOriginal(ctx context.Context, live *bus.Bus, keys outputKeys) *originalOutputs {
	rctx, cancel := context.WithCancel(ctx)
	o := &originalOutputs{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		if len(keys.corrs) > 0 {
			o.out, o.err = CollectOutputs(rctx, live.JetStream(), OutputStreams, keys.since, keys.corrs, keys.inputs)
		}
	}()
	return o
}

func (o *originalOutputs) wait() (map[string][]Output, error) {
	<-o.done
	return o.out, o.err
}

// stop ends the reading (if still going) and waits for it, so nothing
// reads the live bus after SandboxReplay returned.
func (o *originalOutputs) stop() {
	o.cancel()
	<-o.done
}

// outputKeys identify the selection's outputs: its correlation ids, its
// own message ids (inputs, not outputs), and the time of its first message
// (the original run's outputs come after it).
type outputKeys struct {
	corrs, inputs map[string]bool
	since         time.Time
}

func selectionKeys(sel []Selected) outputKeys {
	k := outputKeys{corrs: map[string]bool{}, inputs: map[string]bool{}}
	for _, s := range sel {
		k.inputs[s.Info.ID] = true
		if s.Info.CorrelationID != "" {
			k.corrs[s.Info.CorrelationID] = true
		}
		if k.since.IsZero() || s.Time.Before(k.since) {
			k.since = s.Time
		}
	}
	return k
}
