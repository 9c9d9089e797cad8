package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mariahq/maria/tests/sim/slackevents"
	"github.com/mariahq/maria/tests/sim/slacksim"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// env is one scenario's world: nats-server process(es), the streams
// declared, the simulators, one process per service, and the operator's
// own connection for observing the streams.
type env struct {
	dir      string
	bin      binaries
	nats     *natsServers
	sims     *sims
	services map[string]*service
	events   *slackevents.Client
	op       *nats.Conn
	js       jetstream.JetStream
	// faults records when each fault happened (timelines).
	faults faultLog

	mu       sync.Mutex
	observed []string // facts measured during the faults, for the report
}

// observe records a fact measured during a fault.
func (e *env) observe(fact string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.observed = append(e.observed, fact)
}

// group is one raft group of the cluster: a stream (consumer empty) or a
// stream's consumer.
type group struct{ stream, consumer string }

func (g group) String() string {
	if g.consumer == "" {
		return g.stream
	}
	return g.stream + "/" + g.consumer
}

// ledBy lists the replicated raft groups of Maria's streams, buckets and
// durable consumers that node leads: those another node takes over.
// (Ephemeral consumers — KV watchers — are R1 and die with their node.)
func (e *env) ledBy(ctx context.Context, node string) ([]group, error) {
	var out []group
	streams := e.js.ListStreams(ctx)
	for info := range streams.Info() {
		if info.Cluster != nil && info.Cluster.Leader == node && len(info.Cluster.Replicas) > 0 {
			out = append(out, group{stream: info.Config.Name})
		}
		st, err := e.js.Stream(ctx, info.Config.Name)
		if err != nil {
			return nil, err
		}
		cons := st.ListConsumers(ctx)
		for c := range cons.Info() {
			if c.Config.Durable != "" && c.Cluster != nil && c.Cluster.Leader == node && len(c.Cluster.Replicas) > 0 {
				out = append(out, group{stream: info.Config.Name, consumer: c.Name})
			}
		}
		if err := cons.Err(); err != nil {
			return nil, err
		}
	}
	return out, streams.Err()
}

// leader is g's current leader ("" while it has none or cannot say);
// gone when g no longer exists.
func (e *env) leader(ctx context.Context, g group) (leader string, gone bool) {
	ictx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	notFound := func(err error) bool {
		return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound)
	}
	st, err := e.js.Stream(ictx, g.stream)
	if err != nil {
		return "", notFound(err)
	}
	var cl *jetstream.ClusterInfo
	if g.consumer == "" {
		info, err := st.Info(ictx)
		if err != nil {
			return "", notFound(err)
		}
		cl = info.Cluster
	} else {
		c, err := st.Consumer(ictx, g.consumer)
		if err != nil {
			return "", notFound(err)
		}
		info, err := c.Info(ictx)
		if err != nil {
			return "", notFound(err)
		}
		cl = info.Cluster
	}
	if cl == nil {
		return "", false
	}
	return cl.Leader, false
}

// waitReelected waits until every group has a leader again — another
// node, or old once it was restarted (restarted reports when) — and returns
// how long after since each got it. Groups deleted meanwhile are dropped.
func (e *env) waitReelected(ctx context.Context, groups []group, old string, restarted func() bool, since time.Time, limit time.Duration) (map[group]time.Duration, error) {
	took := map[group]time.Duration{}
	left := len(groups)
	gone := map[group]bool{}
	for len(took)+len(gone) < left {
		for _, g := range groups {
			if _, ok := took[g]; ok || gone[g] {
				continue
			}
			l, deleted := e.leader(ctx, g)
			switch {
			case deleted:
				gone[g] = true
			case l != "" && e.nats.node(l) != nil && (l != old || restarted()):
				took[g] = time.Since(since)
			}
		}
		if time.Since(since) > limit {
			var missing []string
			for _, g := range groups {
				if _, ok := took[g]; !ok && !gone[g] {
					missing = append(missing, g.String())
				}
			}
			return took, fmt.Errorf("no leader after %s: %s", limit, strings.Join(missing, ", "))
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return took, err
		}
	}
	return took, nil
}

// waitLeader waits until stream has a leader among the suite's nodes and
// returns its name.
func (e *env) waitLeader(ctx context.Context, stream string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	var last string
	for {
		ictx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		st, err := e.js.Stream(ictx, stream)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ictx); err == nil && info.Cluster != nil {
				if l := info.Cluster.Leader; l != "" && e.nats.node(l) != nil {
					cancel()
					return l, nil
				}
				last = fmt.Sprintf("leader %q", info.Cluster.Leader)
			}
		}
		cancel()
		if err != nil {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s has no leader after %s (%s)", stream, limit, last)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// envOptions shape an environment.
type envOptions struct {
	// cluster runs 3 nats-server nodes and R3 streams.
	cluster bool
}

// startEnv builds the environment under dir; close it whatever happens.
func startEnv(ctx context.Context, bin binaries, dir string, o envOptions) (_ *env, err error) {
	e := &env{dir: dir, bin: bin, services: map[string]*service{}}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	size, replicas := 1, 1
	if o.cluster {
		size, replicas = 3, 3
	}
	if e.nats, err = startNATS(ctx, bin, dir, size); err != nil {
		return e, err
	}
	if err = declareStreams(ctx, bin, e.nats, replicas); err != nil {
		return e, err
	}
	if e.op, err = e.nats.connect("operator"); err != nil {
		return e, fmt.Errorf("operator connection: %w", err)
	}
	if e.js, err = jetstream.New(e.op); err != nil {
		return e, err
	}
	if e.sims, err = startSims(); err != nil {
		return e, err
	}
	shared := e.sims.vars()
	for k, v := range map[string]string{
		"MARIA_DECLARE_STREAMS": "false", "MARIA_STREAM_REPLICAS": fmt.Sprint(replicas), "MARIA_LOG_LEVEL": "info",
		// Any channel of the suite may read the ERP; budgets are not the
		// subject here.
		"MARIA_ERP_READ_CHANNELS": "*", "MARIA_AI_USER_DAILY_TOKENS": "0", "MARIA_AI_TEAM_DAILY_TOKENS": "0",
		// Every question reaches Odoo: with the read cache on, the few
		// orders the questions name were served from memory and an Odoo
		// outage went unseen.
		"MARIA_ERP_CACHE_TTL": "0",
	} {
		shared[k] = v
	}
	for _, name := range serviceNames {
		s, err := newService(bin, e.nats, dir, name, shared)
		if err != nil {
			return e, err
		}
		e.services[name] = s
		if err := s.start(ctx); err != nil {
			return e, err
		}
	}
	e.events = &slackevents.Client{BaseURL: "http://" + e.services["ingress"].httpAddr, SigningSecret: e.sims.signingSecret,
		Team: slacksim.TeamID, BotUserID: slacksim.BotUserID, AppID: "A0MARIA"}
	return e, nil
}

// close stops the services, the servers and the simulators.
func (e *env) close() {
	for _, s := range e.services {
		_ = s.proc.kill9()
	}
	if e.op != nil {
		e.op.Close()
	}
	if e.nats != nil {
		e.nats.stop()
	}
	if e.sims != nil {
		e.sims.close()
	}
}

// restartService kills a service with SIGKILL and starts it again.
func (e *env) restartService(ctx context.Context, name string) error {
	s := e.services[name]
	if err := s.proc.kill9(); err != nil {
		return err
	}
	return s.start(ctx)
}

// deadLetters counts MARIA_DLQ's messages.
func (e *env) deadLetters(ctx context.Context) (uint64, error) {
	st, err := e.js.Stream(ctx, "MARIA_DLQ")
	if err != nil {
		return 0, fmt.Errorf("MARIA_DLQ: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("MARIA_DLQ info: %w", err)
	}
	return info.State.Msgs, nil
}

// idle reports whether every durable consumer of Maria's streams has
// nothing left to deliver and nothing awaiting an ack: no work can still
// produce a Slack call (a redelivery, a delayed retry).
func (e *env) idle(ctx context.Context) (bool, error) {
	names := e.js.StreamNames(ctx)
	var streams []string
	for n := range names.Name() {
		if strings.HasPrefix(n, "MARIA_") {
			streams = append(streams, n)
		}
	}
	if err := names.Err(); err != nil {
		return false, err
	}
	for _, name := range streams {
		st, err := e.js.Stream(ctx, name)
		if err != nil {
			return false, err
		}
		list := st.ListConsumers(ctx)
		for c := range list.Info() {
			if c.Config.Durable != "" && (c.NumPending > 0 || c.NumAckPending > 0) {
				return false, nil
			}
		}
		if err := list.Err(); err != nil {
			return false, err
		}
	}
	return true, nil
}
