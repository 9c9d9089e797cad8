package ai

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// ProposalBucket holds ERP change proposals awaiting a click.
const ProposalBucket = schemas.ProposalBucket

// Action ids of the proposal buttons.
const (
	ActionConfirm = schemas.ActionERPConfirm
	ActionCancel  = schemas.ActionERPCancel
)

// Proposal states.
const (
	ProposalPending   = schemas.ProposalPending
	ProposalConfirmed = schemas.ProposalConfirmed
	ProposalCancelled = schemas.ProposalCancelled
	ProposalDone      = schemas.ProposalDone
	ProposalFailed    = schemas.ProposalFailed
)

// Proposal is an ERP change the model asked for, waiting for the asking
// user's confirmation: the stored record (the contract the erp service
// reads) and the KV revision it was loaded at.
type Proposal struct {
	schemas.Proposal

	rev uint64
}

// Proposals stores proposals in a KV bucket; state changes are
// compare-and-set (kv.Store.Put on the loaded revision), so exactly one
// click wins.
type Proposals struct {
	recs kv.Store[schemas.Proposal]
	b    jetstream.KeyValue // for listing (proposal_list.go)
}

// OpenProposals opens (or creates) the bucket; proposals expire after ttl.
func OpenProposals(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration) (*Proposals, error) {
	b, err := kv.Open(ctx, js, kv.Config{
		Bucket:      ProposalBucket,
		Description: "maria ai: ERP change proposals awaiting confirmation",
		TTL:         ttl,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("proposal bucket: %w", err)
	}
	return &Proposals{recs: kv.Typed[schemas.Proposal](b), b: b}, nil
}

// ErrNoProposal means the id is unknown or expired.
var ErrNoProposal = errors.New("no such proposal")

// Create stores p unless a proposal with its id exists (a redelivered turn);
// it returns the stored one either way.
func (s *Proposals) Create(ctx context.Context, p *Proposal) (*Proposal, error) {
	rev, err := s.recs.Create(ctx, kvSafe(p.ID), p.Proposal)
	if err == nil {
		p.rev = rev
		return p, nil
	}
	if !errors.Is(err, kv.ErrConflict) {
		return nil, fmt.Errorf("proposal store: %w", err)
	}
	return s.Get(ctx, p.ID)
}

// Get loads a proposal.
func (s *Proposals) Get(ctx context.Context, id string) (*Proposal, error) {
	if id == "" {
		return nil, ErrNoProposal
	}
	e, found, err := s.recs.Get(ctx, kvSafe(id))
	if err != nil {
		return nil, fmt.Errorf("proposal %s: %w", id, err)
	}
	if !found {
		return nil, ErrNoProposal
	}
	return &Proposal{Proposal: e.Value, rev: e.Revision}, nil
}

// Transition moves p from its loaded state with change applied, using
// the revision it was loaded at. It reports false when another writer got
// there first (the caller reloads and decides again).
func (s *Proposals) Transition(ctx context.Context, p *Proposal, change func(*Proposal)) (bool, error) {
	next := *p
	change(&next)
	rev, err := s.recs.Put(ctx, kvSafe(p.ID), next.Proposal, p.rev)
	if errors.Is(err, kv.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("proposal update: %w", err)
	}
	next.rev = rev
	*p = next
	return true, nil
}
