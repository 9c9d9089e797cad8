package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetterRow is one dead letter as `maria dlq list` shows it.
type DeadLetterRow struct {
	Seq         uint64    `json:"seq"`
	Time        time.Time `json:"time"`
	Subject     string    `json:"subject"`
	Stream      string    `json:"stream"`
	Consumer    string    `json:"consumer"`
	OrigSeq     uint64    `json:"orig_seq"`
	Deliveries  uint64    `json:"deliveries"`
	Reason      string    `json:"reason"`
	Type        string    `json:"type,omitempty"`
	Correlation string    `json:"correlation_id,omitempty"`
}

// DLQFilter is the MARIA_DLQ subject selecting dead letters of a stream
// and/or consumer (empty: all).
func DLQFilter(stream, consumer string) string {
	switch {
	case stream != "" && consumer != "":
		return schemas.DLQSubject(stream, consumer)
	case stream != "":
		return "maria.dlq." + schemas.Token(stream) + ".*"
	case consumer != "":
		return "maria.dlq.*." + schemas.Token(consumer)
	}
	return schemas.SubjectDLQAll
}

// ListDLQ lists dead letters (headers only: reasons and counts live there)
// of a stream and/or consumer (empty: all), dead-lettered since a time (zero: all).
func ListDLQ(ctx context.Context, js jetstream.JetStream, stream, consumer string, since time.Time) ([]DeadLetterRow, error) {
	var rows []DeadLetterRow
	err := Scan(ctx, js, schemas.StreamDLQ, Window{Subject: DLQFilter(stream, consumer), Since: since}, ScanOptions{HeadersOnly: true}, func(s Stored) (bool, error) {
		rows = append(rows, rowOf(s))
		return true, nil
	})
	return rows, err
}

func rowOf(s Stored) DeadLetterRow {
	dl := bus.ParseDeadLetter(s.Header, s.Data)
	return DeadLetterRow{Seq: s.Sequence, Time: s.Time, Subject: dl.Subject, Stream: dl.Stream, Consumer: dl.Consumer,
		OrigSeq: dl.Sequence, Deliveries: dl.Deliveries, Reason: dl.Reason, Type: s.Header.Get(schemas.HeaderType),
		Correlation: s.Header.Get(schemas.HeaderCorrelationID)}
}

// PrintDLQ writes the dead-letter table.
func PrintDLQ(w io.Writer, rows []DeadLetterRow) {
	tw := Table(w)
	Row(tw, "SEQ", "TIME", "SUBJECT", "CONSUMER", "DELIVERIES", "REASON")
	for _, r := range rows {
		Row(tw, r.Seq, r.Time.UTC().Format(time.RFC3339), r.Subject, r.Stream+"/"+r.Consumer, r.Deliveries, Truncate(r.Reason, 80))
	}
	_ = tw.Flush()
}

// DeadLetterDetail is `maria dlq show`.
type DeadLetterDetail struct {
	Row      DeadLetterRow `json:"dead_letter"`
	Header   nats.Header   `json:"headers"`
	Envelope any           `json:"envelope"`
}

// ShowDLQ reads one dead letter with its decoded envelope.
func ShowDLQ(ctx context.Context, js jetstream.JetStream, seq uint64) (DeadLetterDetail, error) {
	s, err := GetMsg(ctx, js, schemas.StreamDLQ, seq)
	if err != nil {
		return DeadLetterDetail{}, err
	}
	d := DeadLetterDetail{Row: rowOf(s), Header: s.Header}
	if env, err := schemas.Decode(s.Data); err == nil {
		env.Data = RedactCapabilities(env.Data, Redacted)
		d.Envelope = env
	} else {
		d.Envelope = map[string]string{"invalid": err.Error(), "body": string(RedactCapabilities(s.Data, Redacted))}
	}
	return d, nil
}

// RedriveID is the Nats-Msg-Id of a re-driven dead letter. It is derived
// from the dead letter itself, so redriving the same one twice (a retry after
// a crash between the publish and the delete, two operators at once) is
// dropped by the original stream's duplicate window.
func RedriveID(dlqSeq uint64, dl bus.DeadLetter) string {
	return fmt.Sprintf("redrive-%s-%s-%d-%d", dl.Stream, dl.Consumer, dl.Sequence, dlqSeq)
}

// RedriveMsg rebuilds the original message of a dead letter: its body and
// headers, on its original subject, with a new message id and the replay
// marker.
func RedriveMsg(dlqSeq uint64, dl bus.DeadLetter) *nats.Msg {
	msg := nats.NewMsg(dl.Subject)
	for k, vs := range dl.Header {
		for _, v := range vs {
			msg.Header.Add(k, v)
		}
	}
	msg.Header.Set(schemas.HeaderMsgID, RedriveID(dlqSeq, dl))
	msg.Header.Set(schemas.HeaderReplay, "dlq-redrive-"+strconv.FormatUint(dlqSeq, 10))
	msg.Data = dl.Data
	return msg
}

// RedriveResult is the outcome for one dead letter.
type RedriveResult struct {
	Seq       uint64 `json:"seq"`
	Subject   string `json:"subject"`
	Stream    string `json:"stream"`
	NewSeq    uint64 `json:"new_seq"`
	Duplicate bool   `json:"duplicate"`
}

// Republish publishes a dead letter's original message back to its subject
// without removing it from the DLQ (the first half of Redrive).
func Republish(ctx context.Context, b *bus.Bus, dlqSeq uint64) (RedriveResult, error) {
	s, err := GetMsg(ctx, b.JetStream(), schemas.StreamDLQ, dlqSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return RedriveResult{Seq: dlqSeq}, fmt.Errorf("dead letter %d not found (already redriven or purged?): %w", dlqSeq, err)
	}
	if err != nil {
		return RedriveResult{Seq: dlqSeq}, err
	}
	dl := bus.ParseDeadLetter(s.Header, s.Data)
	if dl.Subject == "" {
		return RedriveResult{Seq: dlqSeq}, fmt.Errorf("dead letter %d has no %s header: cannot tell where it came from", dlqSeq, schemas.HeaderDLQSubject)
	}
	ack, err := b.PublishMsg(ctx, RedriveMsg(dlqSeq, dl))
	if err != nil {
		return RedriveResult{Seq: dlqSeq, Subject: dl.Subject}, fmt.Errorf("redrive %d: %w", dlqSeq, err)
	}
	return RedriveResult{Seq: dlqSeq, Subject: dl.Subject, Stream: ack.Stream, NewSeq: ack.Sequence, Duplicate: ack.Duplicate}, nil
}

// Redrive returns a dead letter to processing once: republish (deduplicated
// by RedriveID), and only after the PubAck delete it from the DLQ. A crash in
// between leaves it in the DLQ, and redriving it again is absorbed by the
// duplicate window.
func Redrive(ctx context.Context, b *bus.Bus, dlqSeq uint64) (RedriveResult, error) {
	res, err := Republish(ctx, b, dlqSeq)
	if err != nil {
		return res, err
	}
	if err := deleteDLQ(ctx, b.JetStream(), dlqSeq); err != nil {
		return res, fmt.Errorf("redriven to %s (seq %d) but not removed from the DLQ: %w", res.Subject, res.NewSeq, err)
	}
	return res, nil
}

// PurgeDLQ deletes dead letters by sequence.
func PurgeDLQ(ctx context.Context, js jetstream.JetStream, seqs []uint64) error {
	var errs []error
	for _, s := range seqs {
		if err := deleteDLQ(ctx, js, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PurgeAllDLQ deletes every dead letter of a stream/consumer (or all).
func PurgeAllDLQ(ctx context.Context, js jetstream.JetStream, stream, consumer string) (uint64, error) {
	st, err := js.Stream(ctx, schemas.StreamDLQ)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", schemas.StreamDLQ, err)
	}
	before, err := st.Info(ctx, jetstream.WithSubjectFilter(DLQFilter(stream, consumer)))
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", schemas.StreamDLQ, err)
	}
	var n uint64
	for _, c := range before.State.Subjects {
		n += c
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(DLQFilter(stream, consumer))); err != nil {
		return 0, fmt.Errorf("purge %s: %w", schemas.StreamDLQ, err)
	}
	return n, nil
}

func deleteDLQ(ctx context.Context, js jetstream.JetStream, seq uint64) error {
	st, err := js.Stream(ctx, schemas.StreamDLQ)
	if err != nil {
		return fmt.Errorf("stream %s: %w", schemas.StreamDLQ, err)
	}
	if err := st.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("delete dead letter %d: %w", seq, err)
	}
	return nil
}
