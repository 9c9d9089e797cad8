package install

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/installs"
)

// Replicas that find a token about to expire at the same moment refresh
// it once (a refresh token works once), and all go on with the new token.
func TestRefreshOnceAcrossReplicas(t *testing.T) {
	r := newRig(t)
	old := r.installTeam("T0ACME")
	later := func() time.Time { return time.Now().Add(12*time.Hour - 5*time.Minute) } // within the 10 min skew
	const replicas = 8
	got := make([]string, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		tokens := &installs.Tokens{Store: r.store, Refresher: r.refresher(), Now: later}
		wg.Go(func() {
			<-start
			tok, err := tokens.BotToken(context.Background(), "T0ACME")
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		})
	}
	close(start)
	wg.Wait()
	if n := r.sim.RefreshCount(); n != 1 {
		t.Fatalf("%d refreshes at Slack, want 1", n)
	}
	for i, tok := range got {
		if tok == old.BotToken || tok != got[0] {
			t.Fatalf("replica %d uses %q; want the one new token %q", i, tok, got[0])
		}
	}
	rec, err := r.store.Find(context.Background(), "T0ACME")
	if err != nil || rec.BotToken != got[0] || rec.BotRefreshToken == old.BotRefreshToken || !rec.RefreshingUntil.IsZero() {
		t.Fatalf("stored after refresh: token new=%v, refresh rotated=%v, lease %v, %v",
			rec.BotToken == got[0], rec.BotRefreshToken != old.BotRefreshToken, rec.RefreshingUntil, err)
	}
	if r.sim.TeamOfToken(rec.BotToken) != "T0ACME" {
		t.Fatal("the new token is not T0ACME's at Slack")
	}
}
