package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamHealth is one stream and its consumers.
type StreamHealth struct {
	Name      string           `json:"name"`
	Subjects  []string         `json:"subjects"`
	Messages  uint64           `json:"messages"`
	Bytes     uint64           `json:"bytes"`
	FirstSeq  uint64           `json:"first_seq"`
	LastSeq   uint64           `json:"last_seq"`
	FirstTime time.Time        `json:"first_time"`
	LastTime  time.Time        `json:"last_time"`
	Consumers []ConsumerHealth `json:"consumers"`
}

// ConsumerHealth is one consumer's progress.
type ConsumerHealth struct {
	Name        string `json:"name"`
	Durable     bool   `json:"durable"`
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	Waiting     int    `json:"waiting"`
	AckFloorSeq uint64 `json:"ack_floor_seq"`
	// Lag is ConsumerLag: what this consumer has still to handle.
	Lag uint64 `json:"lag"`
	// DeadLetters counts this consumer's messages in MARIA_DLQ.
	DeadLetters uint64 `json:"dead_letters"`
}

// ConsumerLag is how many messages a consumer has still to handle: those
// matching its filter that it has not delivered yet (NumPending) plus those
// delivered and not yet acknowledged (NumAckPending). It is not "stream last
// sequence − ack floor": the ack floor of a filtered consumer stops at the
// last message that matched its filter, so it trails the stream forever
// after an unrelated message (a false "lag 1" at rest).
func ConsumerLag(ci *jetstream.ConsumerInfo) uint64 {
	return ci.NumPending + uint64(max(ci.NumAckPending, 0))
}

// IsInternalStream tells the streams JetStream keeps for key-value buckets
// (KV_) and object stores (OBJ_): state, not pipeline traffic.
func IsInternalStream(name string) bool {
	return strings.HasPrefix(name, "KV_") || strings.HasPrefix(name, "OBJ_")
}

// Streams reports the streams on the server (Maria's first, then others)
// with their consumers and their dead-letter counts; the KV_ and OBJ_
// streams behind buckets only with all.
func Streams(ctx context.Context, js jetstream.JetStream, all bool) ([]StreamHealth, error) {
	dlq := map[string]uint64{} // DLQ subject → count
	if st, err := js.Stream(ctx, schemas.StreamDLQ); err == nil {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(schemas.SubjectDLQAll))
		if err != nil {
			return nil, fmt.Errorf("stream %s info: %w", schemas.StreamDLQ, err)
		}
		dlq = info.State.Subjects
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("stream %s: %w", schemas.StreamDLQ, err)
	}
	var out []StreamHealth
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		if !all && IsInternalStream(name) {
			continue
		}
		st, err := js.Stream(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", name, err)
		}
		info := st.CachedInfo()
		h := StreamHealth{Name: name, Subjects: info.Config.Subjects, Messages: info.State.Msgs, Bytes: info.State.Bytes,
			FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq, FirstTime: info.State.FirstTime, LastTime: info.State.LastTime}
		cl := st.ListConsumers(ctx)
		for ci := range cl.Info() {
			c := ConsumerHealth{Name: ci.Name, Durable: ci.Config.Durable != "", Pending: ci.NumPending, AckPending: ci.NumAckPending,
				Redelivered: ci.NumRedelivered, Waiting: ci.NumWaiting, AckFloorSeq: ci.AckFloor.Stream,
				DeadLetters: dlq[schemas.DLQSubject(name, ci.Name)]}
			c.Lag = ConsumerLag(ci)
			h.Consumers = append(h.Consumers, c)
		}
		if err := cl.Err(); err != nil {
			return nil, fmt.Errorf("stream %s consumers: %w", name, err)
		}
		sort.Slice(h.Consumers, func(i, j int) bool { return h.Consumers[i].Name < h.Consumers[j].Name })
		out = append(out, h)
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	rank := map[string]int{}
	for i, s := range schemas.Streams {
		rank[s.Name] = i + 1
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank[out[i].Name], rank[out[j].Name]
		if ri == 0 {
			ri = 1 << 20
		}
		if rj == 0 {
			rj = 1 << 20
		}
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// PrintStreams writes two tables: streams, then consumers.
func PrintStreams(w io.Writer, streams []StreamHealth) {
	tw := Table(w)
	Row(tw, "STREAM", "MESSAGES", "BYTES", "FIRST SEQ", "LAST SEQ", "FIRST", "LAST", "CONSUMERS")
	for _, s := range streams {
		Row(tw, s.Name, s.Messages, HumanBytes(s.Bytes), s.FirstSeq, s.LastSeq, fmtTime(s.FirstTime), fmtTime(s.LastTime), len(s.Consumers))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	tw = Table(w)
	Row(tw, "STREAM", "CONSUMER", "LAG", "PENDING", "ACK PENDING", "REDELIVERED", "ACK FLOOR", "DLQ")
	for _, s := range streams {
		for _, c := range s.Consumers {
			name := c.Name
			if !c.Durable {
				name += " (ephemeral)"
			}
			Row(tw, s.Name, name, c.Lag, c.Pending, c.AckPending, c.Redelivered, c.AckFloorSeq, c.DeadLetters)
		}
	}
	_ = tw.Flush()
}

func fmtTime(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// HumanBytes prints a size in B, KiB, MiB, GiB.
func HumanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
