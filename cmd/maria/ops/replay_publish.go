package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// replayWindow is how many replayed messages may await their PubAck at
// once into a sandbox: enough to keep its server busy, well under the
// client's own async limit (4,000), so a publish never stalls on it.
const replayWindow = 256

// replayAckWait bounds the wait for the PubAcks still outstanding when a
// sandbox replay stops (they are counted, not abandoned).
const replayAckWait = 5 * time.Second

// replayPublisher publishes a replay's messages in order and counts what
// the stream did with them in res.
type replayPublisher struct {
	dst   *bus.Bus
	async bool
	res   *ReplayResult
	bar   *Progress
	// inflight are the sandbox's publishes awaiting their PubAck, oldest first.
	inflight []pending
}

type pending struct {
	index int // in the selection, for the progress bar
	seq   uint64
	ack   jetstream.PubAckFuture
}

// newReplayPublisher pipelines publishes into a sandbox: its server is
// in-process and new, so there is no leader to fail over and nothing to
// retry, and waiting for each PubAck before the next publish was most of a
// sandbox replay's time. Into the live pipeline every publish waits for
// its PubAck and is retried on transient failures (bus.PublishMsg): a
// retried message must not land behind the ones published after it.
func newReplayPublisher(dst *bus.Bus, mode ReplayMode, res *ReplayResult, bar *Progress) *replayPublisher {
	return &replayPublisher{dst: dst, async: mode == ToSandbox, res: res, bar: bar}
}

// publish sends msg, the selection's index-th message (stream sequence seq).
func (p *replayPublisher) publish(ctx context.Context, index int, seq uint64, msg *nats.Msg) error {
	if !p.async {
		ack, err := p.dst.PublishMsg(ctx, msg)
		if err != nil {
			return fmt.Errorf("replay seq %d: %w", seq, err)
		}
		p.count(index, ack)
		return nil
	}
	if len(p.inflight) >= replayWindow {
		if err := p.settleOldest(ctx); err != nil {
			return err
		}
	}
	f, err := p.dst.JetStream().PublishMsgAsync(msg)
	if err != nil {
		return fmt.Errorf("replay seq %d: %w", seq, err)
	}
	p.inflight = append(p.inflight, pending{index: index, seq: seq, ack: f})
	return nil
}

// flushBefore waits for every outstanding PubAck when the next publish is
// not due at once (a paced replay): there is time, and the counts (the
// progress bar) then say what was published so far.
func (p *replayPublisher) flushBefore(ctx context.Context, next time.Time) error {
	for len(p.inflight) > 0 && time.Until(next) > 0 {
		if err := p.settleOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

// skip counts a message left out (an effectful one, to the live pipeline).
func (p *replayPublisher) skip(index int) {
	p.res.Skipped++
	if p.bar != nil {
		p.bar.Set(index + 1)
	}
}

func (p *replayPublisher) count(index int, ack *jetstream.PubAck) {
	if ack.Duplicate {
		p.res.Duplicates++
	} else {
		p.res.Published++
	}
	if p.bar != nil {
		p.bar.Set(index + 1)
	}
}

// settleOldest waits for the oldest outstanding PubAck and counts it; a
// failed one is dropped from the window and returned as a replayAckError.
func (p *replayPublisher) settleOldest(ctx context.Context) error {
	f := p.inflight[0]
	select {
	case ack := <-f.ack.Ok():
		p.inflight = p.inflight[1:]
		p.count(f.index, ack)
		return nil
	case err := <-f.ack.Err():
		p.inflight = p.inflight[1:]
		return &replayAckError{seq: f.seq, err: err}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// replayAckError is a sandbox publish the server refused or never
// acknowledged: the replay resumes from that message, not from the next
// one to publish.
type replayAckError struct {
	seq uint64
	err error
}

func (e *replayAckError) Error() string { return fmt.Sprintf("replay seq %d: %v", e.seq, e.err) }
func (e *replayAckError) Unwrap() error { return e.err }

// stop ends the replay: it waits (at most replayAckWait, even after ctx
// ended, so what was published is counted) for the outstanding PubAcks and
// returns the result. next is the first message not published, err why the
// replay stopped (nil: it completed). Resume is the oldest message whose
// publish is not known to have succeeded.
func (p *replayPublisher) stop(next uint64, err error) (ReplayResult, error) {
	var resume uint64
	lower := func(seq uint64) {
		if seq > 0 && (resume == 0 || seq < resume) {
			resume = seq
		}
	}
	var ae *replayAckError
	if err != nil {
		lower(next)
		if errors.As(err, &ae) {
			lower(ae.seq)
		}
	}
	wctx, cancel := context.WithTimeout(context.Background(), replayAckWait)
	defer cancel()
	for len(p.inflight) > 0 {
		seq := p.inflight[0].seq
		aerr := p.settleOldest(wctx)
		if aerr == nil {
			continue
		}
		lower(seq)
		if err == nil {
			err = aerr
		}
		if !errors.As(aerr, &ae) {
			break // no answer in time: the later ones are unknown too
		}
	}
	if err != nil {
		p.res.Resume = resume
	}
	return *p.res, err
}
