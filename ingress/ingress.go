package ingress

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/sealed"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/slack-go/slack"
)

// Dead-letter "consumers" of ingress on maria.dlq.MARIA_IN.<consumer>: the
// events never reached maria.in, so the DLQ is their only record.
const (
	// DLQRateLimited holds events refused by the door's rate limits.
	DLQRateLimited = "ingress-ratelimit"
	// DLQInvalid holds Socket Mode envelopes that could not be normalized
	// (over HTTP such payloads are answered 400 and Slack keeps them).
	DLQInvalid = "ingress-invalid"
)

// Publisher is what ingress needs from the bus (*bus.Bus implements it).
type Publisher interface {
	Publish(ctx context.Context, subject string, env *schemas.Envelope) (*jetstream.PubAck, error)
	PublishDeadLetter(ctx context.Context, dl bus.DeadLetter) error
}

// Ingress receives Slack deliveries and publishes them. One Ingress serves
// the HTTP endpoints (Routes) and, when configured, Socket Mode (Run).
type Ingress struct {
	cfg         Config
	pub         Publisher
	log         zerolog.Logger
	overloadLog zerolog.Logger // sampled: a flood must not flood the logs too
	norm        *Normalizer
	limits      *limits
	allow       *allowLists
	users       *Classifier
	gate        *bodyGate
	connected   atomic.Bool
	// ring and nc hand Odoo connect submissions to the erp service.
	ring *sealed.Keyring
	nc   *nats.Conn
	// installs handles uninstalls in multi-workspace mode (installations.go).
	installs installHooks
}

// New builds an Ingress from a validated configuration. With
// cfg.BotToken set, users are classified with users.info on cfg.APIURL;
// without it every user is "unknown" (or external, when the payload
// shows it).
func New(cfg Config, pub Publisher, log zerolog.Logger, norm *Normalizer) *Ingress {
	if norm == nil {
		norm = NewNormalizer(nil, nil)
	}
	_ = cfg.Validate() // fills defaults; the caller reported errors already
	var dir UserDirectory
	if cfg.BotToken != "" {
		dir = slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.APIURL))
	}
	return &Ingress{cfg: cfg, pub: pub, log: log, norm: norm, limits: newLimits(cfg),
		overloadLog: log.Sample(&zerolog.BurstSampler{Burst: 1, Period: time.Second}),
		allow:       newAllowLists(cfg.AllowedTeams, cfg.AllowedEnterprises, cfg.AllowedApps),
		users:       NewClassifier(dir, cfg, log),
		gate:        newBodyGate(cfg.MaxInflightBodies, cfg.MaxBufferedBytes)}
}

// NewService builds the production service: it learns the bot's identity
// (auth.test, when SLACK_BOT_TOKEN is set), mounts the HTTP endpoints on
// d.HTTP when SLACK_SIGNING_SECRET is set and registers a readiness check
// for Socket Mode when SLACK_APP_TOKEN is set.
func NewService(ctx context.Context, cfg Config, d bus.Deps) (*Ingress, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var users, bots []string
	if cfg.BotToken != "" {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.APIURL)).AuthTestContext(actx)
		cancel()
		if err != nil {
			// Not fatal: every Events API callback names the bot user too.
			d.Log.Warn().Err(err).Msg("auth.test failed; the bot user is learned from event authorizations only")
		} else {
			users, bots = []string{resp.UserID}, []string{resp.BotID}
			d.Log.Info().Str("bot_user", resp.UserID).Str("bot_id", resp.BotID).Str("team", resp.TeamID).Msg("slack bot identity")
		}
	}
	in := New(cfg, d.Bus, d.Log, NewNormalizer(users, bots))
	if d.HTTP != nil {
		if cfg.SigningSecret != "" {
			in.Routes(d.HTTP.Mux)
		}
		if cfg.AppToken != "" {
			d.HTTP.AddCheck("slack-socket-mode", in.SocketReady)
		}
	}
	return in, nil
}

// Run serves Socket Mode when SLACK_APP_TOKEN is set; otherwise it waits
// for ctx (the HTTP endpoints are served by the shared HTTP server).
func (in *Ingress) Run(ctx context.Context) error {
	if in.cfg.AppToken != "" {
		return in.RunSocketMode(ctx)
	}
	<-ctx.Done()
	return nil
}

// SocketReady is the readiness check of Socket Mode: connected to Slack.
func (in *Ingress) SocketReady(context.Context) error {
	if !in.connected.Load() {
		return errors.New("socket mode not connected to slack")
	}
	return nil
}

// errUnavailable marks a delivery the bus did not store.
var errUnavailable = errors.New("event not stored")

// deliver rate-limits and publishes r, returning the outcome label. An
// error means nothing can be acknowledged to Slack: it must redeliver.
func (in *Ingress) deliver(ctx context.Context, endpoint string, r *Result, retry string) (string, error) {
	log := in.log.Hook(&deliveryFields{endpoint: endpoint, what: r.What, retry: retry})
	if r.Challenge != "" {
		// The Request URL handshake names no team: it is Slack checking the
		// URL, and answering it reveals nothing.
		return OutcomeChallenge, nil
	}
	if reason := in.allow.check(r); reason != "" {
		metricRefused.WithLabelValues(reason).Inc()
		log.Warn().Str("reason", reason).Str("team", r.Team).Str("enterprise", r.Enterprise).Str("app", r.AppID).
			Str("user", r.User).Msg("refused: " + reason + " not in the allow-list; nothing published")
		return OutcomeRefused, nil
	}
	if r.Connect != nil {
		in.handConnect(ctx, r)
		return OutcomeOK, nil
	}
	if outcome, done, err := in.installEvent(ctx, r); done {
		return outcome, err
	}
	switch {
	case r.Ignored != "" || len(r.Events) == 0:
		reason := r.Ignored
		if reason == "" {
			reason = IgnoredUnsupportedEvent
		}
		metricIgnored.WithLabelValues(reason).Inc()
		log.Debug().Str("reason", reason).Str("user", r.User).Msg("slack delivery acknowledged, nothing to publish")
		return OutcomeIgnored, nil
	}
	in.classify(ctx, r)
	pctx, cancel := context.WithTimeout(ctx, in.cfg.PublishTimeout)
	defer cancel()
	if scope := in.limits.check(r.Team, r.User); scope != "" {
		metricRateLimited.WithLabelValues(scope).Inc()
		reason := in.rateReason(scope, r)
		for _, ev := range r.Events {
			if err := in.deadLetter(pctx, DLQRateLimited, ev.Subject, ev.Env, reason); err != nil {
				log.Warn().Err(err).Msg("rate-limited event could not be dead-lettered; asking slack to retry")
				return OutcomeUnavailable, fmt.Errorf("%w: %v", errUnavailable, err)
			}
			metricEvents.WithLabelValues(ev.Kind, "rate_limited").Inc()
		}
		log.Warn().Str("scope", scope).Str("team", r.Team).Str("user", r.User).Int("events", len(r.Events)).Msg("rate limited: dead-lettered")
		return OutcomeRateLimited, nil
	}
	for _, ev := range r.Events {
		ack, err := in.pub.Publish(pctx, ev.Subject, ev.Env)
		if err != nil {
			log.Warn().Err(err).Str("subject", ev.Subject).Str("id", ev.Env.ID).Msg("publish failed; asking slack to retry")
			return OutcomeUnavailable, fmt.Errorf("%w: %v", errUnavailable, err)
		}
		outcome := "published"
		if ack.Duplicate {
			outcome = "duplicate"
		}
		metricEvents.WithLabelValues(ev.Kind, outcome).Inc()
		log.Debug().Str("subject", ev.Subject).Str("id", ev.Env.ID).Uint64("seq", ack.Sequence).Bool("duplicate", ack.Duplicate).Msg("published")
	}
	return OutcomeOK, nil
}

// classify sets the user's home team and kind on every event of r that
// names a user (all of one delivery's events share its user).
func (in *Ingress) classify(ctx context.Context, r *Result) {
	ctx = withTeam(ctx, r.Team) // users.info with this workspace's token
	type class struct{ team, kind string }
	done := map[string]class{}
	for _, ev := range r.Events {
		user := ev.Env.User
		if user == "" {
			continue
		}
		c, ok := done[user]
		if !ok {
			s := Subject{Team: r.Team, Enterprise: r.Enterprise, User: user}
			if user == r.User {
				s.UserTeam = r.UserTeam // the payload's user_team is about its author
			}
			c.team, c.kind = in.users.Classify(ctx, s)
			done[user] = c
		}
		ev.Env.UserTeam, ev.Env.UserKind = c.team, c.kind
		if ev.Kind == schemas.KindHome {
			ev.Env.UserAdmin = in.users.isAdmin(ctx, user, c.kind)
		}
		if schemas.AsksToConnect(ev.Env) {
			ev.Env.UserEmail = in.users.emailOf(ctx, user, c.kind)
		}
	}
}

func (in *Ingress) rateReason(scope string, r *Result) string {
	if scope == "user" {
		return fmt.Sprintf("rate limited: user %s of team %s over %d events/min (burst %d)", r.User, r.Team, in.cfg.UserRate, in.cfg.UserBurst)
	}
	return fmt.Sprintf("rate limited: team %s over %d events/min (burst %d)", r.Team, in.cfg.TeamRate, in.cfg.TeamBurst)
}

// deadLetter records env on maria.dlq.MARIA_IN.<consumer>. It never had a
// stream sequence; the DLQ dedup id is derived from the envelope id instead,
// so Slack's retries of a refused event are recorded once.
func (in *Ingress) deadLetter(ctx context.Context, consumer, subject string, env *schemas.Envelope, reason string) error {
	msg, err := bus.EnvelopeMsg(ctx, subject, env)
	if err != nil {
		return err
	}
	return in.pub.PublishDeadLetter(ctx, bus.DeadLetter{Stream: schemas.StreamIn, Consumer: consumer, Subject: subject,
		Sequence: idSequence(env.ID), Reason: reason, Header: msg.Header, Data: msg.Data})
}

// idSequence maps an id to the 64-bit number DeadLetterID wants.
func idSequence(id string) uint64 {
	h := schemas.StableID(id)
	b, err := hex.DecodeString(h[:16])
	if err != nil || len(b) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
