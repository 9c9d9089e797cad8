// Package installstest is the conformance suite every installation store
// passes (NATS KV, DynamoDB): the same expectations on saving, finding by
// team and by enterprise, compare-and-set and deletion, and on tokens
// never resting in clear.
package installstest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/installs"
)

// Raw returns the bytes a store keeps under key, as an operator with
// read access to the bucket or table would see them.
type Raw func(ctx context.Context, key string) ([]byte, error)

// Sample is a workspace install with every field set.
func Sample(team string) installs.Installation {
	now := time.Now().UTC().Truncate(time.Second)
	return installs.Installation{
		TeamID: team, TeamName: "Team " + team, AppID: "A0MARIA", BotUserID: "U0BOT" + team,
		BotToken: "xoxe.xoxb-1-" + team, BotRefreshToken: "xoxe-1-refresh-" + team, BotTokenExpiresAt: now.Add(12 * time.Hour),
		BotScopes: []string{"chat:write", "app_mentions:read"}, InstallerUserID: "U0ADMIN",
		UserToken: "xoxe.xoxp-1-" + team, UserRefreshToken: "xoxe-1-user-refresh-" + team, UserTokenExpiresAt: now.Add(12 * time.Hour),
		UserScopes: []string{"search:read"}, InstalledAt: now,
	}
}

// Run exercises s; it must start empty. raw may be nil when the backend
// cannot show its stored bytes.
func Run(t *testing.T, s installs.Store, raw Raw) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("save and find", func(t *testing.T) {
		in := Sample("T0SAVE")
		if _, err := s.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.Find(ctx, "T0SAVE")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(in) || got.Revision == 0 {
			t.Fatalf("found %+v (rev %d), want %+v", got.Installation, got.Revision, in)
		}
		if _, err := s.Find(ctx, "T0NONE"); !errors.Is(err, installs.ErrNotInstalled) {
			t.Fatalf("missing team: %v, want ErrNotInstalled", err)
		}
	})

	t.Run("tokens sealed at rest", func(t *testing.T) {
		if raw == nil {
			t.Skip("backend shows no raw bytes")
		}
		in := Sample("T0SEAL")
		if _, err := s.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
		b, err := raw(ctx, installs.TeamKey("T0SEAL"))
		if err != nil || len(b) == 0 {
			t.Fatalf("raw: %d bytes, %v", len(b), err)
		}
		for _, secret := range []string{in.BotToken, in.BotRefreshToken, in.UserToken, in.UserRefreshToken, "xox"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Fatalf("stored bytes contain %q", secret)
			}
		}
		if !bytes.Contains(b, []byte("T0SEAL")) {
			t.Fatal("stored bytes do not name the team (metadata should stay readable)")
		}
	})

	t.Run("reinstall replaces", func(t *testing.T) {
		in := Sample("T0RE")
		first, _ := s.Save(ctx, in)
		in.BotToken, in.BotScopes = "xoxb-second", []string{"chat:write"}
		if _, err := s.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.Find(ctx, "T0RE")
		if err != nil || got.BotToken != "xoxb-second" || got.Revision == first.Revision {
			t.Fatalf("after reinstall: %v, %v", got.BotToken, err)
		}
	})

	t.Run("org-wide install", func(t *testing.T) {
		in := Sample("")
		in.EnterpriseID, in.IsEnterpriseInstall = "E0ORG", true
		if _, err := s.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindEnterprise(ctx, "E0ORG")
		if err != nil || !got.Equal(in) {
			t.Fatalf("by enterprise: %+v, %v", got.Installation, err)
		}
		if _, err := s.Find(ctx, "T0GRID1"); !errors.Is(err, installs.ErrNotInstalled) {
			t.Fatalf("unlinked team found: %v", err)
		}
		if err := s.Link(ctx, "T0GRID1", "E0ORG"); err != nil {
			t.Fatal(err)
		}
		got, err = s.Find(ctx, "T0GRID1")
		if err != nil || !got.IsEnterpriseInstall || got.BotToken != in.BotToken {
			t.Fatalf("linked team: %+v, %v", got.Installation, err)
		}
		// A workspace's own install wins over its organization's.
		own := Sample("T0GRID1")
		own.BotToken = "xoxb-own"
		if _, err := s.Save(ctx, own); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Find(ctx, "T0GRID1"); got.BotToken != "xoxb-own" {
			t.Fatalf("team install shadowed by org install: %q", got.BotToken)
		}
		if err := s.Delete(ctx, installs.EnterpriseKey("E0ORG")); err != nil {
			t.Fatal(err)
		}
		if err := s.Link(ctx, "T0GRID2", "E0ORG"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Find(ctx, "T0GRID2"); !errors.Is(err, installs.ErrNotInstalled) {
			t.Fatalf("team of an uninstalled organization: %v", err)
		}
	})

	t.Run("replace is compare-and-set", func(t *testing.T) {
		rec, err := s.Save(ctx, Sample("T0CAS"))
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				next := rec.Installation
				next.BotToken = "xoxb-rotated-" + string(rune('a'+i))
				_, err := s.Replace(ctx, rec, next)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, installs.ErrConflict):
					conflicts.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != n-1 {
			t.Fatalf("%d wins, %d conflicts; want 1 and %d", wins.Load(), conflicts.Load(), n-1)
		}
		cur, err := s.Find(ctx, "T0CAS")
		if err != nil || cur.Revision == rec.Revision {
			t.Fatalf("after replace: rev %d (was %d), %v", cur.Revision, rec.Revision, err)
		}
		next := cur.Installation
		next.BotToken = "xoxb-again"
		if _, err := s.Replace(ctx, cur, next); err != nil {
			t.Fatalf("replace at the current revision: %v", err)
		}
	})

	t.Run("delete removes the tokens", func(t *testing.T) {
		rec, err := s.Save(ctx, Sample("T0DEL"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, installs.TeamKey("T0DEL")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Find(ctx, "T0DEL"); !errors.Is(err, installs.ErrNotInstalled) {
			t.Fatalf("deleted install found: %v", err)
		}
		if _, err := s.Replace(ctx, rec, rec.Installation); !errors.Is(err, installs.ErrConflict) {
			t.Fatalf("replace of a deleted install: %v, want ErrConflict", err)
		}
		if _, err := s.Find(ctx, "T0DEL"); !errors.Is(err, installs.ErrNotInstalled) {
			t.Fatalf("replace resurrected a deleted install: %v", err)
		}
		if err := s.Delete(ctx, installs.TeamKey("T0DEL")); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if raw != nil {
			if b, _ := raw(ctx, installs.TeamKey("T0DEL")); len(b) > 0 {
				t.Fatalf("deleted install still stored: %d bytes", len(b))
			}
		}
	})
}
