package ingress

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
)

// directory is a users.info double: the users it knows, a call counter,
// an optional delay (honouring ctx, as slack-go does) and failure.
type directory struct {
	users map[string]slack.User
	calls atomic.Int64
	delay time.Duration
	err   error
}

func (d *directory) GetUserInfoContext(ctx context.Context, user string, _ ...slack.GetUserInfoOption) (*slack.User, error) {
	d.calls.Add(1)
	if d.delay > 0 {
		select {
		case <-time.After(d.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	u, ok := d.users[user]
	if !ok {
		return nil, slack.SlackErrorResponse{Err: "user_not_found"}
	}
	return &u, nil
}

const home = "T0HOME"

func testDirectory() *directory {
	return &directory{users: map[string]slack.User{
		"U0MEMBER": {ID: "U0MEMBER", TeamID: home},
		"U0GUEST":  {ID: "U0GUEST", TeamID: home, IsRestricted: true},
		"U0SINGLE": {ID: "U0SINGLE", TeamID: home, IsRestricted: true, IsUltraRestricted: true},
		"U0BOT":    {ID: "U0BOT", TeamID: home, IsBot: true},
		"U0WFBOT":  {ID: "U0WFBOT", TeamID: home, IsWorkflowBot: true},
		"U0OUT":    {ID: "U0OUT", TeamID: "T0OTHER"},
		"U0STRANG": {ID: "U0STRANG", TeamID: home, IsStranger: true},
		"W0GRID":   {ID: "W0GRID", TeamID: "T0SISTER", Enterprise: slack.EnterpriseUser{EnterpriseID: "E0ORG"}},
		"U0ALLOW":  {ID: "U0ALLOW", TeamID: "T0ALLOWED"},
	}}
}

func classifier(dir UserDirectory, cfg Config) *Classifier {
	if cfg.UserLookupTimeout == 0 {
		cfg.UserLookupTimeout = 200 * time.Millisecond
	}
	return NewClassifier(dir, cfg, zerolog.Nop())
}

func TestClassify(t *testing.T) {
	cfg := Config{AllowedTeams: []string{home, "T0ALLOWED"}}
	cases := []struct {
		name     string
		dir      UserDirectory // nil: testDirectory()
		noDir    bool          // no SLACK_BOT_TOKEN: no directory at all
		subject  Subject
		team     string
		kind     string
		noLookup bool
	}{
		{name: "member", subject: Subject{Team: home, User: "U0MEMBER"}, team: home, kind: schemas.UserKindMember},
		{name: "member, user_team in payload", subject: Subject{Team: home, User: "U0MEMBER", UserTeam: home}, team: home, kind: schemas.UserKindMember},
		{name: "multi-channel guest", subject: Subject{Team: home, User: "U0GUEST"}, team: home, kind: schemas.UserKindGuest},
		{name: "single-channel guest (ultra restricted)", subject: Subject{Team: home, User: "U0SINGLE"}, team: home, kind: schemas.UserKindGuest},
		{name: "bot user", subject: Subject{Team: home, User: "U0BOT"}, team: home, kind: schemas.UserKindBot},
		{name: "workflow bot", subject: Subject{Team: home, User: "U0WFBOT"}, team: home, kind: schemas.UserKindBot},
		{name: "external by payload user_team", subject: Subject{Team: home, User: "U0OUT", UserTeam: "T0OTHER"}, team: "T0OTHER", kind: schemas.UserKindExternal},
		{name: "external by users.info team", subject: Subject{Team: home, User: "U0OUT"}, team: "T0OTHER", kind: schemas.UserKindExternal},
		{name: "stranger", subject: Subject{Team: home, User: "U0STRANG"}, team: home, kind: schemas.UserKindExternal},
		{name: "same enterprise, other workspace", subject: Subject{Team: home, Enterprise: "E0ORG", User: "W0GRID"}, team: "T0SISTER", kind: schemas.UserKindMember},
		{name: "other enterprise", subject: Subject{Team: home, Enterprise: "E0ELSE", User: "W0GRID"}, team: "T0SISTER", kind: schemas.UserKindExternal},
		{name: "another allowed workspace", subject: Subject{Team: home, User: "U0ALLOW"}, team: "T0ALLOWED", kind: schemas.UserKindMember},
		{name: "lookup error", dir: &directory{err: errors.New("slack down")}, subject: Subject{Team: home, User: "U0MEMBER"}, kind: schemas.UserKindUnknown},
		{name: "user not found", subject: Subject{Team: home, User: "U0NOBODY"}, kind: schemas.UserKindUnknown},
		{name: "lookup error, payload shows external", dir: &directory{err: errors.New("slack down")}, subject: Subject{Team: home, User: "U0OUT", UserTeam: "T0OTHER"}, team: "T0OTHER", kind: schemas.UserKindExternal},
		{name: "no bot token", noDir: true, subject: Subject{Team: home, User: "U0MEMBER", UserTeam: home}, team: home, kind: schemas.UserKindUnknown, noLookup: true},
		{name: "no bot token, external", noDir: true, subject: Subject{Team: home, User: "U0OUT", UserTeam: "T0OTHER"}, team: "T0OTHER", kind: schemas.UserKindExternal, noLookup: true},
		{name: "no user", subject: Subject{Team: home}, noLookup: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			switch {
			case tc.noDir:
				dir = nil
			case dir == nil:
				dir = testDirectory()
			}
			team, kind := classifier(dir, cfg).Classify(context.Background(), tc.subject)
			if team != tc.team || kind != tc.kind {
				t.Errorf("got team %q kind %q, want %q %q", team, kind, tc.team, tc.kind)
			}
			if d, ok := dir.(*directory); ok && tc.noLookup && d.calls.Load() != 0 {
				t.Errorf("%d lookups, want none", d.calls.Load())
			}
		})
	}
}

func TestClassifyCachesOneLookupPerUser(t *testing.T) {
	dir := testDirectory()
	dir.delay = 20 * time.Millisecond // a burst arrives while the first lookup is in flight
	c := classifier(dir, Config{})
	var wg sync.WaitGroup
	kinds := make(chan string, 50)
	for range 50 {
		wg.Go(func() {
			_, kind := c.Classify(context.Background(), Subject{Team: home, User: "U0GUEST"})
			kinds <- kind
		})
	}
	wg.Wait()
	close(kinds)
	for k := range kinds {
		if k != schemas.UserKindGuest {
			t.Fatalf("kind %q in the burst", k)
		}
	}
	if _, kind := c.Classify(context.Background(), Subject{Team: home, User: "U0GUEST"}); kind != schemas.UserKindGuest {
		t.Fatalf("cached kind %q", kind)
	}
	if n := dir.calls.Load(); n != 1 {
		t.Fatalf("%d users.info calls for one user, want 1", n)
	}
	c.Classify(context.Background(), Subject{Team: home, User: "U0MEMBER"})
	if n := dir.calls.Load(); n != 2 {
		t.Fatalf("%d users.info calls for two users, want 2", n)
	}
}

func TestUserCacheExpiresAndIsBounded(t *testing.T) {
	dir := testDirectory()
	c := classifier(dir, Config{UserCacheTTL: time.Minute, UserCacheSize: 2})
	now := time.Now()
	c.cache.now = func() time.Time { return now }
	ask := func(user string) {
		t.Helper()
		if _, kind := c.Classify(context.Background(), Subject{Team: home, User: user}); kind == schemas.UserKindUnknown {
			t.Fatalf("%s unknown", user)
		}
	}
	ask("U0MEMBER")
	ask("U0MEMBER")
	if dir.calls.Load() != 1 {
		t.Fatalf("%d calls, want 1 (cache hit)", dir.calls.Load())
	}
	now = now.Add(61 * time.Second)
	ask("U0MEMBER")
	if dir.calls.Load() != 2 {
		t.Fatalf("%d calls, want 2 (expired entry looked up again)", dir.calls.Load())
	}
	ask("U0GUEST")
	ask("U0BOT") // evicts U0MEMBER, the least recently used
	if n := c.cache.len(); n != 2 {
		t.Fatalf("cache holds %d users, want at most 2", n)
	}
	ask("U0MEMBER")
	if dir.calls.Load() != 5 {
		t.Fatalf("%d calls, want 5 (evicted user looked up again)", dir.calls.Load())
	}
}

func TestFailedLookupIsRetriedAfterAShortPause(t *testing.T) {
	dir := testDirectory()
	dir.err = errors.New("ratelimited")
	c := classifier(dir, Config{})
	now := time.Now()
	c.cache.now = func() time.Time { return now }
	for range 3 {
		if _, kind := c.Classify(context.Background(), Subject{Team: home, User: "U0MEMBER"}); kind != schemas.UserKindUnknown {
			t.Fatalf("kind %q while users.info fails", kind)
		}
	}
	if dir.calls.Load() != 1 {
		t.Fatalf("%d calls during the pause, want 1", dir.calls.Load())
	}
	dir.err = nil
	now = now.Add(c.cache.errTTL + time.Second)
	if _, kind := c.Classify(context.Background(), Subject{Team: home, User: "U0MEMBER"}); kind != schemas.UserKindMember {
		t.Fatalf("kind %q after Slack recovered", kind)
	}
}

func TestSlowLookupIsBoundedByItsTimeout(t *testing.T) {
	dir := testDirectory()
	dir.delay = 5 * time.Second
	c := classifier(dir, Config{UserLookupTimeout: 100 * time.Millisecond})
	start := time.Now()
	_, kind := c.Classify(context.Background(), Subject{Team: home, User: "U0MEMBER"})
	if kind != schemas.UserKindUnknown {
		t.Fatalf("kind %q after a timed-out lookup", kind)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("classification took %s despite a 100ms lookup timeout", d)
	}
}
