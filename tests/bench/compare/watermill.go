package main

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// hopWatermill drains n messages with Watermill's router over
// watermill-nats v2 in JetStream mode (its recommended production
// subscriber): 4 subscribers in one durable queue group, a handler that
// returns one child message, published with its uuid as Nats-Msg-Id and
// the PubAck awaited, then a synchronous ack (Watermill's defaults).
func hopWatermill(ctx context.Context, n int) (trial, error) {
	e, err := newHopEnv(ctx, n, func(m *nats.Msg, i int) {
		m.Header.Set(wmnats.WatermillUUIDHdr, "hop-"+strconv.Itoa(i))
	})
	if err != nil {
		return trial{}, err
	}
	defer e.close()
	logger := watermill.NopLogger{}
	js := wmnats.JetStreamConfig{TrackMsgId: true, DurablePrefix: "watermill",
		SubscribeOptions: []nats.SubOpt{nats.DeliverAll(), nats.AckExplicit(), nats.MaxAckPending(hopMaxAckPending),
			nats.BindStream(schemas.StreamIn)}}
	sub, err := wmnats.NewSubscriber(wmnats.SubscriberConfig{URL: e.srv.url(), QueueGroupPrefix: "watermill",
		SubscribersCount: hopWorkers, AckWaitTimeout: 30 * time.Second, JetStream: js}, logger)
	if err != nil {
		return trial{}, err
	}
	pub, err := wmnats.NewPublisher(wmnats.PublisherConfig{URL: e.srv.url(), JetStream: wmnats.JetStreamConfig{TrackMsgId: true}}, logger)
	if err != nil {
		_ = sub.Close()
		return trial{}, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, logger)
	if err != nil {
		return trial{}, err
	}
	var done atomic.Int64
	finished := make(chan struct{})
	// Counted once the child's PubAck came back (the router then acks m;
	// the last few acks may still be on their way, as in the other
	// variants), never before: the trial checks every child is stored.
	counted := &countingPublisher{Publisher: pub, done: &done, n: int64(n), finished: finished}
	router.AddHandler("hop", schemas.SubjectInAll, sub, hopOutSubject, counted, func(m *message.Message) ([]*message.Message, error) {
		msg, err := hopChild(m.Context(), m.Payload)
		if err != nil {
			return nil, err
		}
		// Maria's headers become metadata (written back as headers); the
		// uuid is the child's id, sent as Nats-Msg-Id (TrackMsgId).
		child := message.NewMessage(msg.Header.Get(schemas.HeaderMsgID), msg.Data)
		for k := range msg.Header {
			if k != schemas.HeaderMsgID {
				child.Metadata.Set(k, msg.Header.Get(k))
			}
		}
		return []*message.Message{child}, nil
	})
	rctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	start, cpu0 := time.Now(), processCPU()
	go func() { _ = router.Run(rctx); close(stopped) }()
	t, err := e.awaitHop(ctx, start, cpu0, &done, n, finished)
	cancel()
	<-stopped
	_ = pub.Close()
	_ = sub.Close()
	return t, err
}

// countingPublisher counts the messages its Publisher stored and closes
// finished when the n-th is.
type countingPublisher struct {
	message.Publisher
	done     *atomic.Int64
	n        int64
	finished chan struct{}
}

func (c *countingPublisher) Publish(topic string, msgs ...*message.Message) error {
	if err := c.Publisher.Publish(topic, msgs...); err != nil {
		return err
	}
	if c.done.Add(int64(len(msgs))) == c.n {
		close(c.finished)
	}
	return nil
}
