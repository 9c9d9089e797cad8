package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// DeadLetter is a message a consumer gave up on. On the bus it is the
// original body, verbatim, on maria.dlq.<stream>.<consumer>, with the
// original headers plus Maria-Dlq-* headers naming the reason, where it came
// from and how often it was tried — so a re-drive restores it exactly.
type DeadLetter struct {
	Stream     string
	Consumer   string
	Subject    string
	Sequence   uint64
	Deliveries uint64
	Reason     string
	// Stack is where a handler panicked (PanicStack), empty otherwise.
	Stack  string
	Header nats.Header
	Data   []byte
}

// oneLine keeps a header value on one line: a line break would end the header.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// DeadLetterID is the dedup id of a dead letter: the advisory watcher and the
// processor itself may both report the same failure; the stream keeps one.
func DeadLetterID(stream, consumer string, seq uint64) string {
	return fmt.Sprintf("dlq-%s-%s-%d", stream, consumer, seq)
}

// PublishDeadLetter stores dl on the DLQ stream.
func (b *Bus) PublishDeadLetter(ctx context.Context, dl DeadLetter) error {
	msg := nats.NewMsg(schemas.DLQSubject(dl.Stream, dl.Consumer))
	msg.Data = dl.Data
	for k, vs := range dl.Header {
		if k == schemas.HeaderMsgID {
			continue
		}
		for _, v := range vs {
			msg.Header.Add(k, v)
		}
	}
	if id := dl.Header.Get(schemas.HeaderMsgID); id != "" {
		msg.Header.Set(schemas.HeaderDLQOrigMsgID, id)
	}
	reason := dl.Reason
	if len(reason) > 2000 {
		reason = reason[:2000] + "…"
	}
	msg.Header.Set(schemas.HeaderMsgID, DeadLetterID(dl.Stream, dl.Consumer, dl.Sequence))
	msg.Header.Set(schemas.HeaderDLQReason, reason)
	msg.Header.Set(schemas.HeaderDLQStream, dl.Stream)
	msg.Header.Set(schemas.HeaderDLQConsumer, dl.Consumer)
	msg.Header.Set(schemas.HeaderDLQSubject, dl.Subject)
	msg.Header.Set(schemas.HeaderDLQSequence, strconv.FormatUint(dl.Sequence, 10))
	msg.Header.Set(schemas.HeaderDLQDeliveries, strconv.FormatUint(dl.Deliveries, 10))
	if dl.Stack != "" {
		msg.Header.Set(schemas.HeaderDLQStack, oneLine(dl.Stack))
	}
	_, err := b.PublishMsg(ctx, msg)
	return err
}

// ParseDeadLetter reads a dead letter back from a DLQ message.
func ParseDeadLetter(h nats.Header, data []byte) DeadLetter {
	seq, _ := strconv.ParseUint(h.Get(schemas.HeaderDLQSequence), 10, 64)
	n, _ := strconv.ParseUint(h.Get(schemas.HeaderDLQDeliveries), 10, 64)
	orig := nats.Header{}
	for k, vs := range h {
		if len(k) > len("Maria-Dlq-") && k[:len("Maria-Dlq-")] == "Maria-Dlq-" || k == schemas.HeaderMsgID {
			continue
		}
		orig[k] = append([]string(nil), vs...)
	}
	if id := h.Get(schemas.HeaderDLQOrigMsgID); id != "" {
		orig.Set(schemas.HeaderMsgID, id)
	}
	return DeadLetter{Stream: h.Get(schemas.HeaderDLQStream), Consumer: h.Get(schemas.HeaderDLQConsumer),
		Subject: h.Get(schemas.HeaderDLQSubject), Sequence: seq, Deliveries: n, Reason: h.Get(schemas.HeaderDLQReason),
		Stack: h.Get(schemas.HeaderDLQStack), Header: orig, Data: data}
}

// maxDeliveriesAdvisory is the JSON the server publishes when a message
// exhausted MaxDeliver without being acked or terminated.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// WatchMaxDeliveries dead-letters messages whose last delivery ended without
// a verdict (the replica crashed or hung past AckWait): JetStream has no DLQ
// of its own, it only announces them on an advisory subject. Every process
// may run the watcher; the DLQ's dedup keeps one copy. It only handles
// Maria's streams and returns when ctx ends.
func (b *Bus) WatchMaxDeliveries(ctx context.Context) error {
	sub, err := b.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>", func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			b.Log.Warn().Err(err).Msg("unreadable max-deliveries advisory")
			return
		}
		if _, ok := schemas.StreamByName(adv.Stream); !ok || adv.Stream == schemas.StreamDLQ {
			return
		}
		go b.deadLetterFromAdvisory(ctx, adv)
	})
	if err != nil {
		return fmt.Errorf("subscribe to max-deliveries advisories: %w", err)
	}
	<-ctx.Done()
	return sub.Unsubscribe()
}

func (b *Bus) deadLetterFromAdvisory(ctx context.Context, adv maxDeliveriesAdvisory) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := b.Log.With().Str("stream", adv.Stream).Str("consumer", adv.Consumer).Uint64("seq", adv.StreamSeq).Logger()
	st, err := b.js.Stream(ctx, adv.Stream)
	if err != nil {
		log.Error().Err(err).Msg("dead letter: stream lookup failed")
		return
	}
	raw, err := st.GetMsg(ctx, adv.StreamSeq)
	if err != nil {
		log.Error().Err(err).Msg("dead letter: message no longer in stream")
		return
	}
	dl := DeadLetter{Stream: adv.Stream, Consumer: adv.Consumer, Subject: raw.Subject, Sequence: adv.StreamSeq,
		Deliveries: adv.Deliveries, Reason: fmt.Sprintf("max deliveries (%d) reached without acknowledgement (handler crashed or exceeded AckWait)", adv.Deliveries),
		Header: raw.Header, Data: raw.Data}
	if dl.Header == nil {
		dl.Header = nats.Header{}
	}
	if err := b.PublishDeadLetter(ctx, dl); err != nil {
		log.Error().Err(err).Msg("dead letter: publish failed")
		return
	}
	metricDeadLetters.WithLabelValues(adv.Stream, adv.Consumer, "advisory").Inc()
	log.Warn().Msg("dead-lettered after max deliveries")
}
