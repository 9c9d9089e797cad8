package egress

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/schemas"
)

// Stream appends recorded by two replicas at once all land in the ref
// (none lost to another's write), each once; a ref not stored yet is
// reported as pending, not created.
func TestChangeRefConcurrentAppendsLoseNothing(t *testing.T) {
	b := bustest.New(t)
	other := bustest.Client(t, b, nil)
	ctx := context.Background()
	var reps [2]*store
	for i, bb := range []*bus.Bus{b, other} {
		s, err := openStore(ctx, bb.JetStream(), time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}
		reps[i] = s
	}
	env := &schemas.Envelope{Team: "T1", Channel: "C1", CorrelationID: "corr-1"}
	if err := reps[0].putRef(ctx, env, "r1", &refRecord{TS: "1.1", Channel: "C1", Mode: modeStream}); err != nil {
		t.Fatal(err)
	}
	const appends = 12
	var wg sync.WaitGroup
	for i := range appends {
		wg.Go(func() {
			id := fmt.Sprintf("cmd-%d", i%(appends/2)) // each command twice: a redelivery
			err := reps[i%2].changeRef(ctx, env, "r1", func(r *refRecord) bool {
				if r.applied(id) {
					return false
				}
				r.Streamed += 3
				r.Applied = append(r.Applied, id)
				return true
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r, err := reps[1].getRef(ctx, env, "r1")
	if err != nil || len(r.Applied) != appends/2 || r.Streamed != 3*appends/2 {
		t.Fatalf("ref after concurrent appends = %+v, %v; want %d applied once each", r, err, appends/2)
	}
	var pending *refPendingError
	if err := reps[0].changeRef(ctx, env, "r-missing", func(*refRecord) bool { return true }); !errors.As(err, &pending) {
		t.Fatalf("changeRef of a missing ref = %v, want a refPendingError", err)
	}
	if r, err := reps[0].getRef(ctx, env, "r-missing"); err != nil || r != nil {
		t.Fatalf("missing ref was created: %+v, %v", r, err)
	}
}
