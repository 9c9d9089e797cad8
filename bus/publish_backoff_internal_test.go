package bus

import (
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Publish's attempts during a leader election stay at most publishRetryMax
// (plus the backoff's ±50 % jitter) apart however long the election takes,
// so a publish goes through within about half a second of the new leader;
// and they keep coming well past a 4–9-s raft election.
func TestPublishBackOffIsCappedAndOutlastsAnElection(t *testing.T) {
	bo := publishBackOff()
	for n := 1; n <= 100; n++ {
		d := bo.NextBackOff()
		if d == backoff.Stop {
			t.Fatalf("gave up after %d attempts", n)
		}
		if d > publishRetryMax*3/2 {
			t.Fatalf("wait %d is %s, above the cap %s plus jitter", n, d, publishRetryMax)
		}
	}
	if bo.MaxElapsedTime < 15*time.Second {
		t.Fatalf("retries end after %s: a raft election plus catch-up can take longer", bo.MaxElapsedTime)
	}
}
