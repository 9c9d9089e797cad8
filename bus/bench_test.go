package bus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// BenchmarkPublish measures a durable publish (PubAck awaited, file storage,
// dedup id set) on the embedded server: the cost ingress pays per Slack event.
func BenchmarkPublish(b *testing.B) {
	bs := bustest.New(b)
	ctx := context.Background()
	subj := schemas.InSubject(schemas.KindMessage, "T1", "C1")
	env, _ := schemas.New("", schemas.TypeSlackMessage, "bench", schemas.SlackMessage{TS: "1.0", Text: "What is the status of S00042?"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env.ID = "bench-" + strconv.Itoa(i)
		if _, err := bs.Publish(ctx, subj, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessorThroughput measures publish → handler → ack through one
// durable consumer with the default concurrency: the per-hop overhead of the
// runtime, excluding the handler's own work.
func BenchmarkProcessorThroughput(b *testing.B) {
	bs := bustest.New(b)
	ctx, cancel := context.WithCancel(context.Background())
	var handled atomic.Int64
	p := bus.Processor{Name: "bench", Stream: schemas.StreamIn, Subjects: []string{schemas.SubjectInAll},
		Handle: func(context.Context, *bus.Msg) error { handled.Add(1); return nil }}
	done := make(chan struct{})
	go func() { _ = bus.Run(ctx, bs, p); close(done) }()
	defer func() { cancel(); <-done }()
	subj := schemas.InSubject(schemas.KindMessage, "T1", "C1")
	env, _ := schemas.New("", schemas.TypeSlackMessage, "bench", schemas.SlackMessage{TS: "1.0", Text: "hello"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env.ID = "bench-" + strconv.Itoa(i)
		if _, err := bs.Publish(ctx, subj, env); err != nil {
			b.Fatal(err)
		}
	}
	for handled.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
}
