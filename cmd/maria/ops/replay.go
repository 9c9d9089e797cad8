package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Selected is one message chosen for a replay (read headers-only).
type Selected struct {
	Sequence uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Subject  string    `json:"subject"`
	Info     Info      `json:"message"`
}

// Select lists the messages of stream in window w, in stream order.
func Select(ctx context.Context, js jetstream.JetStream, stream string, w Window) ([]Selected, error) {
	var sel []Selected
	err := Scan(ctx, js, stream, w, ScanOptions{HeadersOnly: true}, func(s Stored) (bool, error) {
		sel = append(sel, Selected{Sequence: s.Sequence, Time: s.Time, Subject: s.Subject, Info: Describe(s.Header, nil)})
		return true, nil
	})
	return sel, err
}

// ParseSpeed reads --speed: "instant" (0), "original" (1) or "Nx" (N times
// the original pace, e.g. 10x or 0.5x).
func ParseSpeed(s string) (float64, error) {
	switch s = strings.TrimSpace(strings.ToLower(s)); s {
	case "", "instant":
		return 0, nil
	case "original", "1x":
		return 1, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || f <= 0 || !strings.HasSuffix(s, "x") {
		return 0, fmt.Errorf("speed %q: want instant, original or a factor like 10x", s)
	}
	return f, nil
}

// NewRunID names a replay run: time plus a little randomness, short enough
// to read in headers and ids.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// ReplayMode says where replayed messages go.
type ReplayMode int

const (
	// ToSandbox republishes the messages unchanged (same ids, so the
	// processors' deterministic child ids match the original run's) into a
	// sandbox server, marked with the Maria-Replay header.
	ToSandbox ReplayMode = iota
	// ToOriginal re-drives them into the live pipeline with new ids.
	ToOriginal
)

// ReplayID is the id of a message re-driven into the live pipeline: new, so
// the stream does not drop it as a duplicate and the processors' idempotency
// records (keyed by message id) let it through; deterministic per run, so a
// resumed run (same --run-id) does not publish it twice.
func ReplayID(origID, runID string) string { return "replay-" + origID + "-" + runID }

// ReplayMsg builds the message to republish for an original one.
func ReplayMsg(orig Stored, mode ReplayMode, runID string) *nats.Msg {
	msg := nats.NewMsg(orig.Subject)
	for k, vs := range orig.Header {
		for _, v := range vs {
			msg.Header.Add(k, v)
		}
	}
	msg.Header.Set(schemas.HeaderReplay, runID)
	msg.Data = orig.Data
	if mode == ToSandbox {
		if msg.Header.Get(schemas.HeaderMsgID) == "" {
			msg.Header.Set(schemas.HeaderMsgID, fmt.Sprintf("sandbox-%s-%d", orig.Stream, orig.Sequence))
		}
		return msg
	}
	// A fresh trace: the replay is not part of the original request's trace.
	msg.Header.Del(schemas.HeaderTraceparent)
	msg.Header.Del(schemas.HeaderTracestate)
	origID := orig.Header.Get(schemas.HeaderMsgID)
	if env, err := schemas.Decode(orig.Data); err == nil {
		origID = env.ID
		env.ID = ReplayID(env.ID, runID)
		if body, err := env.Marshal(); err == nil {
			msg.Data = body
		}
	}
	if origID == "" {
		origID = fmt.Sprintf("%s-%d", orig.Stream, orig.Sequence)
	}
	msg.Header.Set(schemas.HeaderMsgID, ReplayID(origID, runID))
	return msg
}

// Effectful reports subjects whose messages cause effects outside Maria
// that must happen once: confirmed ERP writes. A replay to the live
// pipeline never re-drives them (the erp service would refuse a second
// execution of the same proposal anyway); the sandbox, whose erp is
// read-only, still gets them.
func Effectful(subject string) bool {
	return strings.HasPrefix(subject, strings.TrimSuffix(schemas.SubjectERPCommandAll, ">"))
}

// ReplayOptions tune Replay.
type ReplayOptions struct {
	Mode  ReplayMode
	RunID string
	// Speed 0 replays as fast as possible; 1 keeps the original gaps
	// between messages; N compresses them N times.
	Speed float64
	// Progress, when set, receives a progress bar (a TTY, typically stderr).
	Progress io.Writer
	// SandboxResponseURL replaces every response_url replayed into a
	// sandbox (see SandboxCapabilities); empty redacts it.
	SandboxResponseURL string
	// Subject is the selection's subject filter, if any: bodies are read
	// through it, so a rare subject does not mean reading the whole range.
	Subject string
}

// ReplayResult says what a replay did.
type ReplayResult struct {
	RunID      string `json:"run_id"`
	Selected   int    `json:"selected"`
	Published  int    `json:"published"`
	Duplicates int    `json:"duplicates"`
	// Skipped counts effectful messages (ERP commands) a replay to the
	// live pipeline left out; see Effectful.
	Skipped int `json:"skipped,omitempty"`
	// Resume is the sequence to restart from (--from-seq) when the replay
	// was interrupted; 0 when it completed.
	Resume uint64 `json:"resume_from_seq,omitempty"`
}

// Replay reads the selected messages (with their bodies, a chunk at a
// time) from the source stream and publishes them through dst, in order,
// paced by o.Speed. Into a sandbox the publishes are pipelined (PubAcks
// awaited in a window, not one by one); into the live pipeline each waits
// for its PubAck and retries like any publish of Maria's. When ctx ends
// (Ctrl-C) it stops between two messages and reports where to resume.
func Replay(ctx context.Context, src jetstream.JetStream, stream string, sel []Selected, dst *bus.Bus, o ReplayOptions) (ReplayResult, error) {
	res := ReplayResult{RunID: o.RunID, Selected: len(sel)}
	if o.RunID == "" {
		return res, errors.New("replay needs a run id")
	}
	var bar *Progress
	if o.Progress != nil {
		bar = NewProgress(o.Progress, len(sel))
		defer bar.Done()
	}
	pub := newReplayPublisher(dst, o.Mode, &res, bar)
	start := time.Now()
	for lo := 0; lo < len(sel); lo += replayChunk {
		part := sel[lo:min(lo+replayChunk, len(sel))]
		bodies, err := readBodies(ctx, src, stream, o.Subject, part)
		if err != nil {
			return pub.stop(part[0].Sequence, err)
		}
		for i, s := range part {
			if o.Speed > 0 && lo+i > 0 {
				at := start.Add(time.Duration(float64(s.Time.Sub(sel[0].Time)) / o.Speed))
				// Count what is out before waiting, so the progress bar
				// (and an interruption) see it.
				if err := pub.flushBefore(ctx, at); err != nil {
					return pub.stop(s.Sequence, err)
				}
				if err := sleepUntil(ctx, at); err != nil {
					return pub.stop(s.Sequence, err)
				}
			}
			if err := ctx.Err(); err != nil {
				return pub.stop(s.Sequence, err)
			}
			if o.Mode == ToOriginal && Effectful(s.Subject) {
				pub.skip(lo + i)
				continue
			}
			msg := ReplayMsg(bodies[i], o.Mode, o.RunID)
			if o.Mode == ToSandbox {
				msg.Data = SandboxCapabilities(msg.Data, o.SandboxResponseURL)
			}
			if err := pub.publish(ctx, lo+i, s.Sequence, msg); err != nil {
				return pub.stop(s.Sequence, err)
			}
		}
	}
	return pub.stop(0, nil)
}

func sleepUntil(ctx context.Context, at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// PrintSelection lists a selection (dry run).
func PrintSelection(w io.Writer, sel []Selected) {
	tw := Table(w)
	Row(tw, "SEQ", "TIME", "SUBJECT", "TYPE", "CORRELATION", "ID")
	for _, s := range sel {
		Row(tw, s.Sequence, s.Time.UTC().Format(time.RFC3339Nano), s.Subject, dash(s.Info.Type), dash(s.Info.CorrelationID), dash(s.Info.ID))
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
