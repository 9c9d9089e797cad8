package ingress

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
)

// UserDirectory answers users.info; *slack.Client implements it.
type UserDirectory interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
}

// userFacts is what classification needs from users.info.
type userFacts struct {
	team, enterprise          string
	bot, restricted, stranger bool
	// admin: a workspace admin or owner (may edit Maria's settings).
	admin bool
	// email is the profile's (scope users:read.email; empty without it).
	email string
}

func factsOf(u *slack.User) userFacts {
	return userFacts{team: u.TeamID, enterprise: u.Enterprise.EnterpriseID,
		bot:        u.IsBot || u.IsAppUser || u.IsWorkflowBot || u.IsConnectorBot,
		restricted: u.IsRestricted || u.IsUltraRestricted, stranger: u.IsStranger,
		admin: u.IsAdmin || u.IsOwner || u.IsPrimaryOwner, email: u.Profile.Email}
}

// Subject is who a delivery is from, as its payload tells it.
type Subject struct {
	// Team and Enterprise are the workspace (team_id) and organisation the
	// delivery came through.
	Team, Enterprise string
	User             string
	// UserTeam is the user's home team when the payload names it
	// (event.user_team, user.team_id): Slack Connect users differ from Team.
	UserTeam string
}

// errNoDirectory: without SLACK_BOT_TOKEN ingress cannot ask users.info.
var errNoDirectory = errors.New("no SLACK_BOT_TOKEN: users.info lookups disabled")

// Classifier tells members from guests, external (Slack Connect) users and
// bots. Guests and bots are only visible through users.info, asked with the
// bot token and cached; the lookup is bounded by a short timeout so the
// delivery is still acknowledged inside Slack's 3 seconds. When the lookup
// fails the user is "unknown" — processors refuse sensitive access to
// unknown users, so a Slack outage fails closed, never open.
type Classifier struct {
	dir     UserDirectory
	timeout time.Duration
	cache   *userCache
	allow   *allowLists
	log     zerolog.Logger
}

// NewClassifier builds a classifier over dir (nil: no lookups, every user
// is "unknown" unless the payload shows them external) with cfg's lookup
// timeout, cache and allowed teams (a user from another allowed workspace
// of the installation is not external).
func NewClassifier(dir UserDirectory, cfg Config, log zerolog.Logger) *Classifier {
	_ = cfg.Validate() // fills defaults
	return &Classifier{dir: dir, timeout: cfg.UserLookupTimeout, cache: newUserCache(cfg.UserCacheTTL, cfg.UserCacheSize),
		allow: newAllowLists(cfg.AllowedTeams, nil, nil), log: log}
}

// Classify returns the user's home team (empty when nobody said) and kind
// (schemas.UserKind*). A subject without a user has neither.
func (c *Classifier) Classify(ctx context.Context, s Subject) (userTeam, kind string) {
	if s.User == "" {
		return "", ""
	}
	facts, err := c.lookup(ctx, s.User)
	userTeam = s.UserTeam
	if userTeam == "" {
		userTeam = facts.team // empty when the lookup failed
	}
	external := userTeam != "" && userTeam != s.Team && !c.allow.allowsTeam(userTeam) &&
		!(err == nil && facts.enterprise != "" && facts.enterprise == s.Enterprise)
	switch {
	case err == nil && facts.bot:
		kind = schemas.UserKindBot
	case external || (err == nil && facts.stranger):
		kind = schemas.UserKindExternal
	case err != nil:
		kind = schemas.UserKindUnknown
	case facts.restricted:
		kind = schemas.UserKindGuest
	default:
		kind = schemas.UserKindMember
	}
	metricUserKinds.WithLabelValues(kind).Inc()
	return userTeam, kind
}

// lookup asks users.info through the cache.
func (c *Classifier) lookup(ctx context.Context, user string) (userFacts, error) {
	if c.dir == nil {
		metricUserLookups.WithLabelValues("disabled").Inc()
		return userFacts{}, errNoDirectory
	}
	// One workspace's answer is never served to another (in
	// multi-workspace mode the lookup is made with that workspace's token).
	facts, cached, err := c.cache.get(ctx, teamOf(ctx)+"/"+user, func(ctx context.Context) (userFacts, error) {
		lctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		u, err := c.dir.GetUserInfoContext(lctx, user)
		if err != nil {
			metricUserLookups.WithLabelValues("error").Inc()
			// slack-go's errors name the method and Slack's code, never the token.
			c.log.Warn().Err(err).Str("user", user).Dur("timeout", c.timeout).Msg("users.info failed; user classified unknown")
			return userFacts{}, fmt.Errorf("users.info %s: %w", user, err)
		}
		metricUserLookups.WithLabelValues("ok").Inc()
		return factsOf(u), nil
	})
	if cached {
		metricUserLookups.WithLabelValues("cached").Inc()
	}
	return facts, err
}
