package ops_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// A time window selects exactly the messages stored inside it, and an
// original-mode replay republishes exactly those, with new ids, the
// Maria-Replay header, and the original correlation ids.
func TestReplayOriginalByTimeWindowRepublishesExactlyThose(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	var batches [3][]*schemas.Envelope
	for i := range batches {
		for j := 0; j < 3+i; j++ {
			env, _ := publishMessage(t, b, "Ev-"+string(rune('A'+i))+string(rune('0'+j)), "C1", "hello")
			batches[i] = append(batches[i], env)
		}
		time.Sleep(5 * time.Millisecond) // distinct store timestamps between batches (not an assertion)
	}
	// The window is the store times of batch B's first and last messages.
	since := storedTime(t, b, schemas.StreamIn, 4)
	until := storedTime(t, b, schemas.StreamIn, 7)
	sel, err := ops.Select(ctx, b.JetStream(), schemas.StreamIn, ops.Window{Since: since, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 4 || sel[0].Sequence != 4 || sel[3].Sequence != 7 {
		t.Fatalf("selected %+v, want seq 4..7", sel)
	}
	live := bustest.Subscribe(t, b, schemas.SubjectInAll)
	res, err := ops.Replay(ctx, b.JetStream(), schemas.StreamIn, sel, b, ops.ReplayOptions{Mode: ops.ToOriginal, RunID: "run1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 4 || res.Duplicates != 0 || res.Resume != 0 {
		t.Fatalf("result %+v", res)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return len(live()) >= 4 }, "4 replayed messages")
	msgs := live()
	if len(msgs) != 4 {
		t.Fatalf("got %d messages on the live subject, want 4", len(msgs))
	}
	for i, m := range msgs {
		orig := batches[1][i]
		env, err := schemas.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		want := ops.ReplayID(orig.ID, "run1")
		if env.ID != want || m.Header.Get(schemas.HeaderMsgID) != want {
			t.Fatalf("message %d: id %q / Nats-Msg-Id %q, want %q", i, env.ID, m.Header.Get(schemas.HeaderMsgID), want)
		}
		if m.Header.Get(schemas.HeaderReplay) != "run1" {
			t.Fatalf("message %d: Maria-Replay %q", i, m.Header.Get(schemas.HeaderReplay))
		}
		if env.CorrelationID != orig.CorrelationID || string(env.Data) != string(orig.Data) || m.Subject != schemas.InSubject(schemas.KindMessage, "T1", "C1") {
			t.Fatalf("message %d changed: %+v", i, env)
		}
	}
	if got := streamLastSeq(t, b, schemas.StreamIn); got != 12+4 {
		t.Fatalf("stream last seq %d, want 16", got)
	}
	// The same run again (an operator resuming with --run-id) is deduplicated.
	res, err = ops.Replay(ctx, b.JetStream(), schemas.StreamIn, sel, b, ops.ReplayOptions{Mode: ops.ToOriginal, RunID: "run1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != 0 || res.Duplicates != 4 {
		t.Fatalf("second run %+v, want 4 duplicates", res)
	}
}

// A sequence range (with a subject filter) selects exactly the messages
// inside it; a replay into the replayed stream itself stops at the snapshot
// taken when it started.
func TestReplayOriginalBySequenceRange(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	for i := 0; i < 10; i++ {
		ch := "C1"
		if i%2 == 1 {
			ch = "C2"
		}
		publishMessage(t, b, "Ev-"+string(rune('0'+i)), ch, "hi")
	}
	// seq 3..8 on C1 only: seqs 3, 5, 7.
	sel, err := ops.Select(ctx, b.JetStream(), schemas.StreamIn, ops.Window{Subject: schemas.InSubject(schemas.KindMessage, "T1", "C1"), FromSeq: 3, ToSeq: 8})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, s := range sel {
		seqs = append(seqs, s.Sequence)
	}
	if len(seqs) != 3 || seqs[0] != 3 || seqs[1] != 5 || seqs[2] != 7 {
		t.Fatalf("selected seqs %v, want [3 5 7]", seqs)
	}
	live := bustest.Subscribe(t, b, schemas.SubjectInAll)
	if _, err := ops.Replay(ctx, b.JetStream(), schemas.StreamIn, sel, b, ops.ReplayOptions{Mode: ops.ToOriginal, RunID: "r2"}); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 5*time.Second, func() bool { return len(live()) >= 3 }, "3 replayed")
	for i, m := range live() {
		if !strings.HasPrefix(m.Header.Get(schemas.HeaderMsgID), "replay-Ev-") || !strings.HasSuffix(m.Header.Get(schemas.HeaderMsgID), "-r2") {
			t.Fatalf("message %d id %q", i, m.Header.Get(schemas.HeaderMsgID))
		}
	}

	// Open-ended window: everything from seq 1, replayed into the same
	// stream, must not chase its own republished messages.
	sel, err = ops.Select(ctx, b.JetStream(), schemas.StreamIn, ops.Window{FromSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 13 {
		t.Fatalf("selected %d, want 13", len(sel))
	}
	res, err := ops.Replay(ctx, b.JetStream(), schemas.StreamIn, sel, b, ops.ReplayOptions{Mode: ops.ToOriginal, RunID: "r3"})
	if err != nil || res.Published != 13 {
		t.Fatalf("replay %+v %v", res, err)
	}
	if got := streamLastSeq(t, b, schemas.StreamIn); got != 26 {
		t.Fatalf("last seq %d, want 26", got)
	}
	// Empty selections: past the end, or a subject with no message.
	for _, w := range []ops.Window{{FromSeq: 1000}, {Subject: "maria.in.file.>"}, {Since: time.Now().Add(time.Hour)}} {
		sel, err := ops.Select(ctx, b.JetStream(), schemas.StreamIn, w)
		if err != nil || len(sel) != 0 {
			t.Fatalf("window %+v: %d selected, %v", w, len(sel), err)
		}
	}
}

// Cancelling (Ctrl-C) stops between messages and says where to resume, to
// the live pipeline (each publish waits for its PubAck) as into a sandbox
// (pipelined, but a paced replay counts what is out before each wait).
func TestReplayInterruptedReportsResumeSeq(t *testing.T) {
	for _, c := range []struct {
		name        string
		mode        ops.ReplayMode
		ownSandbox  bool
		wantLastSeq uint64 // of the destination's MARIA_IN
	}{
		{"original", ops.ToOriginal, false, 6},
		{"sandbox", ops.ToSandbox, true, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bustest.New(t)
			dst := b
			if c.ownSandbox {
				dst = bustest.New(t)
			}
			for i := 0; i < 5; i++ {
				publishMessage(t, b, "Ev-"+string(rune('0'+i)), "C1", "hi")
			}
			ctx := ctxT(t)
			sel, err := ops.Select(ctx, b.JetStream(), schemas.StreamIn, ops.Window{FromSeq: 1})
			if err != nil {
				t.Fatal(err)
			}
			// original speed with an hour between "messages": cancel while waiting.
			for i := range sel {
				sel[i].Time = sel[0].Time.Add(time.Duration(i) * time.Hour)
			}
			// The progress bar is drawn after each PubAck: the first draw is the
			// operator's Ctrl-C.
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var bar bytes.Buffer
			res, err := ops.Replay(cctx, b.JetStream(), schemas.StreamIn, sel, dst, ops.ReplayOptions{Mode: c.mode, RunID: "r", Speed: 1,
				Progress: cancelOnWrite{w: &bar, cancel: cancel}})
			if err == nil {
				t.Fatal("want an interruption error")
			}
			if res.Published != 1 || res.Resume != 2 {
				t.Fatalf("result %+v, want 1 published and resume at 2", res)
			}
			if !strings.Contains(bar.String(), "1/5") {
				t.Fatalf("progress %q", bar.String())
			}
			if got := streamLastSeq(t, dst, schemas.StreamIn); got != c.wantLastSeq {
				t.Fatalf("last seq %d, want %d", got, c.wantLastSeq)
			}
		})
	}
}

type cancelOnWrite struct {
	w      io.Writer
	cancel context.CancelFunc
}

func (c cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return c.w.Write(p)
}

func TestParseSpeedAndTime(t *testing.T) {
	for in, want := range map[string]float64{"instant": 0, "original": 1, "10x": 10, "0.5x": 0.5} {
		if got, err := ops.ParseSpeed(in); err != nil || got != want {
			t.Fatalf("ParseSpeed(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"fast", "10", "-2x", "0x"} {
		if _, err := ops.ParseSpeed(bad); err == nil {
			t.Fatalf("ParseSpeed(%q) accepted", bad)
		}
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"15m":                  now.Add(-15 * time.Minute),
		"2d":                   now.Add(-48 * time.Hour),
		"2026-11-23T10:00:00Z": time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		"2026-11-23 09:30:00":  time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC),
	}
	for in, want := range cases {
		if got, err := ops.ParseTime(in, now); err != nil || !got.Equal(want) {
			t.Fatalf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ops.ParseTime("yesterday", now); err == nil {
		t.Fatal("ParseTime accepted yesterday")
	}
	if err := (ops.Window{FromSeq: 5, ToSeq: 2}).Validate(); err == nil {
		t.Fatal("inverted range accepted")
	}
	if err := (ops.Window{FromSeq: 5, Since: now}).Validate(); err == nil {
		t.Fatal("two starts accepted")
	}
}

// Scanning in several pulls (a stream larger than one batch) sees every
// message once, in order, and stops at the window's end.
func TestScanAcrossBatches(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	for i := 0; i < 10; i++ {
		publishMessage(t, b, "Ev-"+string(rune('a'+i)), "C1", "x")
	}
	for _, w := range []struct {
		win  ops.Window
		want []uint64
	}{
		{ops.Window{}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{ops.Window{FromSeq: 4, ToSeq: 8}, []uint64{4, 5, 6, 7, 8}},
		{ops.Window{FromSeq: 9}, []uint64{9, 10}},
	} {
		var got []uint64
		err := ops.Scan(ctx, b.JetStream(), schemas.StreamIn, w.win, ops.ScanOptions{Batch: 3}, func(s ops.Stored) (bool, error) {
			if s.Data == nil {
				t.Fatal("body missing without HeadersOnly")
			}
			got = append(got, s.Sequence)
			return true, nil
		})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(w.want) {
			t.Fatalf("window %+v: got %v (%v), want %v", w.win, got, err, w.want)
		}
	}
	// fn can stop early.
	n := 0
	if err := ops.Scan(ctx, b.JetStream(), schemas.StreamIn, ops.Window{}, ops.ScanOptions{Batch: 3}, func(ops.Stored) (bool, error) { n++; return n < 5, nil }); err != nil || n != 5 {
		t.Fatalf("early stop after %d (%v)", n, err)
	}
}

// Into a sandbox the replay pipelines its publishes across several read
// chunks: every message lands, in the original order, with its own id; a
// second replay of the same messages is dropped whole by the dedup window.
func TestReplayToSandboxKeepsOrderAcrossChunks(t *testing.T) {
	src, dst := bustest.New(t), bustest.New(t)
	ctx := ctxT(t)
	const n = 1100 // more than two read chunks
	for i := range n {
		publishMessage(t, src, fmt.Sprintf("Ev-%04d", i), fmt.Sprintf("C%d", i%7), "hi")
	}
	sel, err := ops.Select(ctx, src.JetStream(), schemas.StreamIn, ops.Window{FromSeq: 1})
	if err != nil || len(sel) != n {
		t.Fatalf("%d selected, %v", len(sel), err)
	}
	res, err := ops.Replay(ctx, src.JetStream(), schemas.StreamIn, sel, dst, ops.ReplayOptions{Mode: ops.ToSandbox, RunID: "sb"})
	if err != nil || res.Published != n || res.Duplicates != 0 || res.Resume != 0 {
		t.Fatalf("first replay %+v, %v", res, err)
	}
	st, err := dst.JetStream().Stream(ctx, schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{1, 2, 512, 513, 1024, 1025, n} {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("Ev-%04d", seq-1); m.Header.Get(schemas.HeaderMsgID) != want || m.Header.Get(schemas.HeaderReplay) != "sb" {
			t.Fatalf("sandbox seq %d holds %s (replay %q), want %s", seq, m.Header.Get(schemas.HeaderMsgID), m.Header.Get(schemas.HeaderReplay), want)
		}
	}
	res, err = ops.Replay(ctx, src.JetStream(), schemas.StreamIn, sel, dst, ops.ReplayOptions{Mode: ops.ToSandbox, RunID: "sb"})
	if err != nil || res.Published != 0 || res.Duplicates != n {
		t.Fatalf("second replay %+v, %v", res, err)
	}
}
