package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// ProposalBucket holds ERP change proposals awaiting a click.
const ProposalBucket = "maria_proposals"

// Action ids of the proposal buttons.
const (
	ActionConfirm = "erp_confirm"
	ActionCancel  = "erp_cancel"
)

// Proposal states.
const (
	ProposalPending   = "pending"
	ProposalConfirmed = "confirmed"
	ProposalCancelled = "cancelled"
	ProposalDone      = "done"
	ProposalFailed    = "failed"
)

// Proposal is an ERP change the model asked for, waiting for the asking
// user's confirmation.
type Proposal struct {
	ID       string             `json:"id"`
	Status   string             `json:"status"`
	Command  schemas.ERPCommand `json:"command"`
	User     string             `json:"user"`
	Team     string             `json:"team"`
	Channel  string             `json:"channel"`
	ThreadTS string             `json:"thread_ts,omitempty"`
	// Ref names the proposal's Slack message for out.update.
	Ref string `json:"ref"`
	// MessageTS is learnt from the click (the message's ts).
	MessageTS string    `json:"message_ts,omitempty"`
	Created   time.Time `json:"created"`
	// DecidedBy / DecidedEvent: who clicked and the action event that won the claim.
	DecidedBy    string    `json:"decided_by,omitempty"`
	DecidedEvent string    `json:"decided_event,omitempty"`
	Decided      time.Time `json:"decided,omitzero"`
	Outcome      string    `json:"outcome,omitempty"`
	// CorrelationID of the turn that proposed it (for tracing).
	CorrelationID string `json:"correlation_id,omitempty"`

	rev uint64
}

// Proposals stores proposals in a KV bucket; state changes are
// compare-and-set, so exactly one click wins.
type Proposals struct{ kv jetstream.KeyValue }

// OpenProposals opens (or creates) the bucket; proposals expire after ttl.
func OpenProposals(ctx context.Context, js jetstream.JetStream, replicas int, ttl time.Duration) (*Proposals, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      ProposalBucket,
		Description: "maria ai: ERP change proposals awaiting confirmation",
		TTL:         ttl,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(1, replicas),
	})
	if err != nil {
		return nil, fmt.Errorf("proposal bucket: %w", err)
	}
	return &Proposals{kv: kv}, nil
}

// ErrNoProposal means the id is unknown or expired.
var ErrNoProposal = errors.New("no such proposal")

// Create stores p unless a proposal with its id exists (a redelivered turn);
// it returns the stored one either way.
func (s *Proposals) Create(ctx context.Context, p *Proposal) (*Proposal, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("proposal encode: %w", err)
	}
	if _, err := s.kv.Create(ctx, kvSafe(p.ID), raw); err == nil {
		return p, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, fmt.Errorf("proposal store: %w", err)
	}
	return s.Get(ctx, p.ID)
}

// Get loads a proposal.
func (s *Proposals) Get(ctx context.Context, id string) (*Proposal, error) {
	if id == "" {
		return nil, ErrNoProposal
	}
	e, err := s.kv.Get(ctx, kvSafe(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrNoProposal
	}
	if err != nil {
		return nil, fmt.Errorf("proposal get: %w", err)
	}
	var p Proposal
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return nil, fmt.Errorf("proposal %s is corrupt: %w", id, err)
	}
	p.rev = e.Revision()
	return &p, nil
}

// Transition moves p from its loaded state with change applied, using
// the revision it was loaded at. It reports false when another writer got
// there first (the caller reloads and decides again).
func (s *Proposals) Transition(ctx context.Context, p *Proposal, change func(*Proposal)) (bool, error) {
	next := *p
	change(&next)
	raw, err := json.Marshal(&next)
	if err != nil {
		return false, fmt.Errorf("proposal encode: %w", err)
	}
	rev, err := s.kv.Update(ctx, kvSafe(p.ID), raw, p.rev)
	if err != nil {
		if isConflict(err) {
			return false, nil
		}
		return false, fmt.Errorf("proposal update: %w", err)
	}
	next.rev = rev
	*p = next
	return true, nil
}

// Describe is a one-line, human description of a command.
func Describe(c schemas.ERPCommand) string {
	if c.Op == "write" {
		ids := make([]string, len(c.IDs))
		for i, id := range c.IDs {
			ids[i] = fmt.Sprintf("#%d", id)
		}
		return fmt.Sprintf("update `%s` %s", c.Model, strings.Join(ids, ", "))
	}
	return fmt.Sprintf("create a `%s` record", c.Model)
}

// valueLines lists the values of a command, one "• field: value" per line.
func valueLines(values map[string]any) string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v, err := json.Marshal(values[k])
		if err != nil {
			v = []byte(fmt.Sprint(values[k]))
		}
		fmt.Fprintf(&b, "• `%s`: %s\n", k, truncate(string(v), 200))
	}
	return strings.TrimRight(b.String(), "\n")
}

func section(text string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(text, 2900)}}
}

func contextBlock(text string) map[string]any {
	return map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": truncate(text, 2900)}}}
}

// ProposalBlocks renders a pending proposal: the exact change and the
// Confirm / Cancel buttons (value = proposal id).
func ProposalBlocks(p *Proposal) []any {
	return []any{
		section(fmt.Sprintf("*Proposed change:* %s\n%s", Describe(p.Command), valueLines(p.Command.Values))),
		contextBlock(fmt.Sprintf("Requested by <@%s>. Nothing changes in Odoo until <@%s> clicks Confirm.", p.User, p.User)),
		map[string]any{
			"type":     "actions",
			"block_id": "proposal_" + kvSafe(p.ID),
			"elements": []any{
				map[string]any{"type": "button", "action_id": ActionConfirm, "style": "primary", "value": p.ID,
					"text": map[string]any{"type": "plain_text", "text": "Confirm"}},
				map[string]any{"type": "button", "action_id": ActionCancel, "style": "danger", "value": p.ID,
					"text": map[string]any{"type": "plain_text", "text": "Cancel"}},
			},
		},
	}
}

// ProposalText is the notification text of a proposal message.
func ProposalText(p *Proposal) string {
	return fmt.Sprintf("Proposed change: %s — awaiting confirmation by <@%s>", Describe(p.Command), p.User)
}

// DecidedBlocks renders a proposal after a click or a result: the change and
// a status line, without buttons.
func DecidedBlocks(p *Proposal, status string) []any {
	return []any{
		section(fmt.Sprintf("*Proposed change:* %s\n%s", Describe(p.Command), valueLines(p.Command.Values))),
		contextBlock(status),
	}
}
