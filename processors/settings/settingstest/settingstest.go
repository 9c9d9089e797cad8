// Package settingstest is the conformance suite every settings.Store
// passes (NATS KV and DynamoDB).
package settingstest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/processors/settings"
)

// Run checks s: missing teams, create, read back, compare-and-set, teams
// kept apart, and exactly one winner among concurrent writers.
func Run(t *testing.T, s settings.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	team := "T" + time.Now().Format("150405.000000")
	if _, _, found, err := s.Get(ctx, team); err != nil || found {
		t.Fatalf("Get of a team never saved: found=%v err=%v", found, err)
	}
	want := settings.Settings{TeamID: team, AssistantTitle: "Acme assistant",
		SuggestedPrompts: []settings.Prompt{{Title: "Hello", Message: "What can you do?"}},
		ERPReadChannels:  []string{"dm", "C1"}, ERPWriteChannels: []string{}, AllowGuests: true,
		UpdatedBy: "U1", UpdatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	rev, err := s.Put(ctx, want, 0)
	if err != nil || rev == 0 {
		t.Fatalf("create: rev %d, %v", rev, err)
	}
	got, grev, found, err := s.Get(ctx, team)
	if err != nil || !found || grev != rev {
		t.Fatalf("Get after create: found=%v rev=%d (want %d) err=%v", found, grev, rev, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n got %+v\nwant %+v", got, want)
	}
	if got.ERPWriteChannels == nil {
		t.Fatal("an empty channel list came back nil: \"nothing enabled\" would read as \"the default\"")
	}
	if _, err := s.Put(ctx, want, 0); !errors.Is(err, settings.ErrConflict) {
		t.Fatalf("create over existing settings: %v, want ErrConflict", err)
	}
	next := want
	next.AssistantTitle = "Acme ERP"
	rev2, err := s.Put(ctx, next, rev)
	if err != nil || rev2 == rev {
		t.Fatalf("update at the current revision: rev %d, %v", rev2, err)
	}
	if _, err := s.Put(ctx, want, rev); !errors.Is(err, settings.ErrConflict) {
		t.Fatalf("update at a stale revision: %v, want ErrConflict", err)
	}
	if got, _, _, _ := s.Get(ctx, team); got.AssistantTitle != "Acme ERP" {
		t.Fatalf("title after update %q", got.AssistantTitle)
	}
	other := team + "X"
	if _, _, found, _ := s.Get(ctx, other); found {
		t.Fatal("another team sees settings it never saved")
	}

	// Concurrent writers at one revision: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := next
			v.UpdatedBy = "U" + string(rune('A'+i))
			if _, err := s.Put(ctx, v, rev2); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, settings.ErrConflict) {
				t.Errorf("concurrent put: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent writers at one revision won, want 1", wins)
	}
}
