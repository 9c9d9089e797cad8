// Package erptest produces genuinely confirmed ERP commands for tests of
// the erp service: it plays the parts ai and ingress play in production
// (the proposal record, the Confirm click on MARIA_IN), so a test can drive
// the real service through the bus contract.
package erptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mariahq/maria/bus/kv"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// Conversation is where a change was asked and confirmed.
type Conversation struct {
	Team, Channel, User string
}

// Confirmed is a command as ai publishes it after the asker's click, with
// the proposal and click behind it.
type Confirmed struct {
	Env      *schemas.Envelope
	Command  schemas.ERPCommand
	Proposal schemas.Proposal
	Click    *schemas.Envelope
}

// Confirm stores a proposal for cmd asked by c.User in c's conversation,
// publishes c.User's Confirm click on it as ingress would, marks the
// proposal confirmed by that click, and returns the command envelope ai
// would publish (not yet published).
func Confirm(ctx context.Context, js jetstream.JetStream, cmd schemas.ERPCommand, c Conversation) (*Confirmed, error) {
	if _, err := kv.Open(ctx, js, kv.Config{Bucket: schemas.ProposalBucket}); err != nil {
		return nil, fmt.Errorf("proposal bucket: %w", err)
	}
	cmd.ProposalID = schemas.NewID()
	cmd.ConfirmedBy, cmd.Confirmation = "", nil
	digest, err := schemas.ERPCommandDigest(cmd, c.User, c.Team, c.Channel)
	if err != nil {
		return nil, err
	}
	prop := schemas.Proposal{ID: cmd.ProposalID, Status: schemas.ProposalPending, Command: cmd, User: c.User,
		Team: c.Team, Channel: c.Channel, Digest: digest, Ref: "proposal-test", Created: time.Now().UTC()}
	click, err := schemas.New("", schemas.TypeSlackAction, "ingress", schemas.SlackAction{ActionID: schemas.ActionERPConfirm,
		BlockID: schemas.ConfirmBlockID(digest), Value: prop.ID, MessageTS: "1700000000.000100"})
	if err != nil {
		return nil, err
	}
	click.Team, click.Channel, click.User = c.Team, c.Channel, c.User
	body, err := click.Marshal()
	if err != nil {
		return nil, err
	}
	ack, err := js.Publish(ctx, schemas.InSubject(schemas.KindAction, c.Team, c.Channel), body, jetstream.WithMsgID(click.ID))
	if err != nil {
		return nil, fmt.Errorf("publish click: %w", err)
	}
	prop.Status, prop.DecidedBy, prop.DecidedEvent, prop.DecidedSeq, prop.Decided = schemas.ProposalConfirmed, c.User, click.ID, ack.Sequence, time.Now().UTC()
	if err := Store(ctx, js, &prop); err != nil {
		return nil, err
	}
	cmd.ConfirmedBy = c.User
	cmd.Confirmation = &schemas.ERPConfirmation{EventID: click.ID, StreamSeq: ack.Sequence}
	env, err := schemas.New("", schemas.TypeERPCommand, "ai", cmd)
	if err != nil {
		return nil, err
	}
	env.Team, env.Channel, env.User = c.Team, c.Channel, c.User
	return &Confirmed{Env: env, Command: cmd, Proposal: prop, Click: click}, nil
}

// Store writes (or overwrites) a proposal record, e.g. to move it to done
// as ai does when the result comes back.
func Store(ctx context.Context, js jetstream.JetStream, p *schemas.Proposal) error {
	proposals, err := kv.Bind(ctx, js, schemas.ProposalBucket)
	if err != nil {
		return fmt.Errorf("proposal bucket: %w", err)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := proposals.Put(ctx, p.ID, raw); err != nil {
		return fmt.Errorf("store proposal: %w", err)
	}
	return nil
}

// Load reads a proposal record.
func Load(ctx context.Context, js jetstream.JetStream, id string) (*schemas.Proposal, error) {
	proposals, err := kv.Bind(ctx, js, schemas.ProposalBucket)
	if err != nil {
		return nil, fmt.Errorf("proposal bucket: %w", err)
	}
	e, err := proposals.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("proposal %s: %w", id, err)
	}
	if err != nil {
		return nil, err
	}
	var p schemas.Proposal
	return &p, json.Unmarshal(e.Value(), &p)
}

// CommandEnvelope wraps cmd as ai would, with a fresh id, for tests that
// forge or alter commands.
func CommandEnvelope(cmd schemas.ERPCommand, c Conversation) (*schemas.Envelope, error) {
	env, err := schemas.New("", schemas.TypeERPCommand, "ai", cmd)
	if err != nil {
		return nil, err
	}
	env.Team, env.Channel, env.User = c.Team, c.Channel, cmd.ConfirmedBy
	return env, nil
}
