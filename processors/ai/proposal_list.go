package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// ForUser lists user's proposals in team, newest first: open (waiting for
// their click) and decided ones that reached the ERP (done or failed). It
// reads the whole bucket once — proposals expire after
// MARIA_AI_PROPOSAL_TTL, so it holds days of them, not years.
func (s *Proposals) ForUser(ctx context.Context, team, user string) (open, done []schemas.Proposal, err error) {
	w, err := s.b.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, nil, fmt.Errorf("list proposals: %w", err)
	}
	err = kv.Initial(ctx, w, func(e jetstream.KeyValueEntry) error {
		var p schemas.Proposal
		if json.Unmarshal(e.Value(), &p) != nil || p.Team != team || p.User != user {
			return nil
		}
		switch p.Status {
		case schemas.ProposalPending:
			open = append(open, p)
		case schemas.ProposalDone, schemas.ProposalFailed:
			done = append(done, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list proposals: %w", err)
	}
	newest := func(ps []schemas.Proposal) {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Created.After(ps[j].Created) })
	}
	newest(open)
	newest(done)
	return open, done, nil
}
