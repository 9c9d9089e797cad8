package bus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// BenchmarkProcessorDrain measures the processor hop alone: b.N messages
// are stored first, then one processor drains them (pull, dispatch,
// handler, ack), unkeyed and keyed by thread over 64 threads. ns/op is the
// runtime's cost per message with a handler that does nothing; "publish"
// is the hop as processors use it: the handler publishes one child
// (Msg.Publish, PubAck awaited) before the ack. cpu-ns/op is the
// process' CPU per message (runtime and embedded nats-server together):
// steadier than ns/op on a shared machine, where other work steals wall
// time but not this process' CPU.
func BenchmarkProcessorDrain(b *testing.B) {
	for _, v := range []struct {
		name           string
		keyed, publish bool
	}{{"unkeyed", false, false}, {"keyed", true, false}, {"publish", false, true}} {
		keyed := v.keyed
		b.Run(v.name, func(b *testing.B) {
			bs := bustest.New(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			subj := schemas.InSubject(schemas.KindMessage, "T1", "C1")
			outSubj := schemas.OutSubject("T1", "C1")
			childData := map[string]string{"text": "ok"}
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
				Handle: func(ctx context.Context, m *bus.Msg) error {
					if v.publish {
						if _, err := m.Publish(ctx, outSubj, "", schemas.TypeOutStreamAppend, childData); err != nil {
							return err
						}
					}
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
			cpu0 := processCPU()
			done := make(chan struct{})
			go func() { _ = bus.Run(ctx, bs, p); close(done) }()
			<-all
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			cancel()
			<-done
		})
	}
}

// processCPU is the CPU time (user + system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
