package bus

import (
	"context"
	"time"
)

// heartbeat keeps every message the scheduler holds — handled or queued
// behind its key — from being redelivered while this replica still owns
// it: one ticker for all of them sends InProgress for those whose last
// heartbeat is older than a third of AckWait. One goroutine per processor
// instead of one per message; a crashed replica stops beating and its
// messages are redelivered after AckWait.
func heartbeat(ctx context.Context, s *scheduler, ackWait time.Duration) {
	age := ackWait / 3
	t := time.NewTicker(max(age/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, d := range s.due(now, age) {
				// An error means it was settled meanwhile or the connection
				// is down; either way there is nothing to extend.
				_ = d.m.raw.InProgress()
			}
		}
	}
}
