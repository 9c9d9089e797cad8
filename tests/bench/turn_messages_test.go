package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mariahq/maria/cmd/maria/demo"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Upper bounds of what one question costs the server, met by the current
// code (see RESULTS.md, "Messages per turn"): a change that publishes or
// stores more per turn fails TestTurnMessages and must say why in RESULTS.md.
const (
	maxStoredPerTurn = 18   // stream appends + KV puts, every stream and bucket (41 before)
	maxBytesPerTurn  = 8500 // their payloads and headers (15.4 KB before)
)

// streamCount is what one stream (or KV bucket) received during a turn.
type streamCount struct {
	msgs  uint64 // last sequence after − before: what the stream stored
	seen  int    // publishes seen on its subjects (duplicates included)
	bytes int    // their payload + header bytes
}

// TestTurnMessages runs one whole turn (signed mention → ingress → ai with
// one ERP read → egress → Slack simulator → delivered) on the demo wiring
// and counts what every stream and KV bucket received for it, printing the
// table and failing above the bounds the current code meets.
func TestTurnMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole demo environment")
	}
	ctx := context.Background()
	e, err := demo.Start(ctx, demo.Options{DataDir: t.TempDir(), LogOutput: io.Discard, Overrides: noDoorLimits})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	js := e.Observer.JetStream()

	// A first turn creates what is created once (consumers, buckets' first
	// keys of the day); the measured turn is a steady-state one.
	if err := oneTurn(ctx, e, "CCOUNT0"); err != nil {
		t.Fatal(err)
	}
	before, err := lastSeqs(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	tap, err := newSubjectTap(e.Observer.Conn(), before)
	if err != nil {
		t.Fatal(err)
	}
	if err := oneTurn(ctx, e, "CCOUNT1"); err != nil {
		t.Fatal(err)
	}
	after, err := lastSeqs(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	counts, skipped := tap.stop()
	t.Log("published during the turn:\n" + strings.Join(tap.log, "\n"))
	for name, seq := range after {
		c := counts[name]
		c.msgs = seq - before[name] - uint64(skipped[name])
		counts[name] = c
	}
	total, bytes := printCounts(t, counts)
	if total > maxStoredPerTurn {
		t.Errorf("a turn stored %d messages, bound %d", total, maxStoredPerTurn)
	}
	if bytes > maxBytesPerTurn {
		t.Errorf("a turn published %d bytes, bound %d", bytes, maxBytesPerTurn)
	}
}

// oneTurn asks the demo's order question in a new channel and waits until
// it is answered and every consumer is idle.
func oneTurn(ctx context.Context, e *demo.Env, channel string) error {
	turn, err := e.Mention(ctx, channel, "U0BENCH", demo.QuestionOrder, "")
	if err != nil {
		return err
	}
	if _, err := e.Settle(ctx, turn.ID, demo.Answered); err != nil {
		return fmt.Errorf("turn in %s: %w", channel, err)
	}
	return nil
}

// lastSeqs is every stream's last sequence, KV and object buckets included.
func lastSeqs(ctx context.Context, js jetstream.JetStream) (map[string]uint64, error) {
	out := map[string]uint64{}
	l := js.ListStreams(ctx)
	for info := range l.Info() {
		out[info.Config.Name] = info.State.LastSeq
	}
	return out, l.Err()
}

// subjectTap counts what is published on each stream's subjects.
type subjectTap struct {
	mu     sync.Mutex
	counts map[string]streamCount
	log    []string // "stream subject bytes", in arrival order
	// skipped counts background writes per stream (see background).
	skipped map[string]int
	subs    []*nats.Subscription
	nc      *nats.Conn
}

func newSubjectTap(nc *nats.Conn, streams map[string]uint64) (*subjectTap, error) {
	tap := &subjectTap{counts: map[string]streamCount{}, skipped: map[string]int{}, nc: nc}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	for name := range streams {
		st, err := js.Stream(context.Background(), name)
		if err != nil {
			return nil, err
		}
		for _, subj := range st.CachedInfo().Config.Subjects {
			sub, err := nc.Subscribe(subj, func(m *nats.Msg) {
				if background(m.Subject) {
					tap.mu.Lock()
					tap.skipped[name]++
					tap.mu.Unlock()
					return
				}
				n := len(m.Data)
				for k, vs := range m.Header {
					for _, v := range vs {
						n += len(k) + len(v) + 4 // "k: v\r\n"
					}
				}
				tap.mu.Lock()
				tap.log = append(tap.log, fmt.Sprintf("%s %s %d", name, m.Subject, n))
				c := tap.counts[name]
				c.seen++
				c.bytes += n
				tap.counts[name] = c
				tap.mu.Unlock()
			})
			if err != nil {
				return nil, err
			}
			tap.subs = append(tap.subs, sub)
		}
	}
	return tap, nc.Flush()
}

// background tells writes that belong to no turn (a replica's periodic
// membership heartbeat) from the turn's own; they are left out of the
// count, which must not depend on when the turn ran.
func background(subject string) bool {
	return strings.Contains(subject, ".members.")
}

func (t *subjectTap) stop() (counts map[string]streamCount, skipped map[string]int) {
	_ = t.nc.Flush()
	for _, s := range t.subs {
		_ = s.Unsubscribe()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts, t.skipped
}

// printCounts logs the table and returns the totals.
func printCounts(t *testing.T, counts map[string]streamCount) (total uint64, bytes int) {
	names := make([]string, 0, len(counts))
	for n, c := range counts {
		if c.msgs > 0 || c.seen > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| stream / bucket | stored | published | bytes |\n|---|---|---|---|\n")
	for _, n := range names {
		c := counts[n]
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", n, c.msgs, c.seen, c.bytes)
		total += c.msgs
		bytes += c.bytes
	}
	fmt.Fprintf(&b, "| total | %d | | %d |\n", total, bytes)
	t.Log(b.String())
	return total, bytes
}
