package bus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// BenchmarkProcessorDrain measures the processor hop alone: b.N messages
// are stored first, then one processor drains them (pull, dispatch,
// handler, ack), unkeyed and keyed by thread over 64 threads. ns/op is the
// runtime's cost per message with a handler that does nothing.
func BenchmarkProcessorDrain(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		name := "unkeyed"
		if keyed {
			name = "keyed"
		}
		b.Run(name, func(b *testing.B) {
			bs := bustest.New(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			subj := schemas.InSubject(schemas.KindMessage, "T1", "C1")
			env, _ := schemas.New("", schemas.TypeSlackMessage, "bench", schemas.SlackMessage{TS: "1.0", Text: "hello"})
			for i := 0; i < b.N; i++ {
				env.ID = "drain-" + strconv.Itoa(i)
				env.ThreadTS = strconv.Itoa(i % 64)
				if _, err := bs.Publish(ctx, subj, env); err != nil {
					b.Fatal(err)
				}
			}
			var handled atomic.Int64
			all := make(chan struct{})
			p := bus.Processor{Name: "drain", Stream: schemas.StreamIn, Subjects: []string{schemas.SubjectInAll},
				Handle: func(context.Context, *bus.Msg) error {
					if handled.Add(1) == int64(b.N) {
						close(all)
					}
					return nil
				}}
			if keyed {
				p.Key = func(m *bus.Msg) string { return m.Env.ThreadTS }
			}
			b.ReportAllocs()
			b.ResetTimer()
			done := make(chan struct{})
			go func() { _ = bus.Run(ctx, bs, p); close(done) }()
			<-all
			b.StopTimer()
			cancel()
			<-done
		})
	}
}
