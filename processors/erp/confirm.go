package erp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mariahq/maria/bus/kv"
	"regexp"
	"sort"
	"strings"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go/jetstream"
)

// RejectedError is a command the erp service will not execute because it
// cannot show that a human confirmed exactly this change: no such proposal,
// wrong state or user, a value changed after the click, no genuine click.
// It is never retried: the command is dead-lettered with Reason.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "rejected: " + e.Reason }

func rejected(format string, args ...any) error {
	return &RejectedError{Reason: fmt.Sprintf(format, args...)}
}

// ingressSource is the envelope source of events ingress published after
// checking Slack's signature; only ingress may publish on maria.in.>.
const ingressSource = "ingress"

var proposalIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// confirmation is what verify established about a command.
type confirmation struct {
	proposal *schemas.Proposal
	// clicked: a genuine click by the asker confirmed exactly this command
	// (so a rejection for another reason may be told to that user).
	clicked bool
}

// verify checks, from the stores ingress and ai wrote, that a human
// confirmed exactly cmd: the proposal exists, is confirmed (or already
// executed under this same proposal, when done says so), belongs to the
// command's conversation, was asked and confirmed by confirmed_by, matches
// the command field by field, and the click on MARIA_IN that confirmed it
// is genuine and carries the digest of this command. A RejectedError says
// why not; any other error is transient.
func (s *Service) verify(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, done func(context.Context) (bool, error)) (*confirmation, error) {
	c := &confirmation{}
	if strings.TrimSpace(cmd.ConfirmedBy) == "" {
		return c, rejected("the command carries no confirmed_by: Maria only executes changes a user confirmed")
	}
	if !proposalIDRe.MatchString(cmd.ProposalID) {
		return c, rejected("the command names no valid proposal_id: Maria only executes changes proposed and confirmed in Slack")
	}
	prop, err := s.proposal(ctx, m, cmd.ProposalID)
	if err != nil {
		return c, err
	}
	c.proposal = prop
	if m.Env.Team != prop.Team || m.Env.Channel != prop.Channel {
		return c, rejected("proposal %s belongs to %s/%s, the command came for %s/%s", prop.ID, prop.Team, prop.Channel, m.Env.Team, m.Env.Channel)
	}
	if cmd.ConfirmedBy != prop.User {
		return c, rejected("proposal %s was asked by %s; only they may confirm it, not %s", prop.ID, prop.User, cmd.ConfirmedBy)
	}
	if prop.DecidedBy != cmd.ConfirmedBy {
		return c, rejected("proposal %s was not confirmed by %s", prop.ID, cmd.ConfirmedBy)
	}
	if diff := commandDiff(cmd, &prop.Command, prop.ID); diff != "" {
		return c, rejected("the command differs from proposal %s: %s", prop.ID, diff)
	}
	digest, err := schemas.ERPCommandDigest(*cmd, prop.User, prop.Team, prop.Channel)
	if err != nil {
		return c, rejected("%v", err)
	}
	if err := s.checkClick(ctx, m, cmd, prop, digest); err != nil {
		return c, err
	}
	c.clicked = true
	switch prop.Status {
	case schemas.ProposalConfirmed:
		return c, nil
	case schemas.ProposalDone, schemas.ProposalFailed:
		// The result of this proposal came back already: only a repeat of
		// the execution recorded under its key may go on (to republish the
		// outcome or finish an uncertain attempt), never a new write.
		recorded, err := done(ctx)
		if err != nil {
			return c, err
		}
		if recorded {
			return c, nil
		}
		return c, rejected("proposal %s is %s and no execution of it is recorded", prop.ID, prop.Status)
	}
	return c, rejected("proposal %s is %s, not confirmed", prop.ID, prop.Status)
}

// proposal reads a proposal from the bucket ai owns; the erp service only
// reads it and never creates it.
func (s *Service) proposal(ctx context.Context, m *bus.Msg, id string) (*schemas.Proposal, error) {
	proposals, err := kv.Bind(ctx, m.Bus().JetStream(), schemas.ProposalBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, rejected("proposal %s does not exist (no proposal was ever made)", id)
	}
	if err != nil {
		return nil, fmt.Errorf("open proposals: %w", err)
	}
	e, err := proposals.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, rejected("proposal %s does not exist or has expired", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read proposal %s: %w", id, err)
	}
	var p schemas.Proposal
	if err := decodeStrict(e.Value(), &p); err != nil {
		return nil, rejected("proposal %s is unreadable: %v", id, err)
	}
	if p.ID != id {
		return nil, rejected("proposal record %s names another id %q", id, p.ID)
	}
	return &p, nil
}

// commandDiff names the first field where cmd differs from the proposed
// command (values compared as canonical JSON), "" when they are the same.
func commandDiff(cmd, proposed *schemas.ERPCommand, proposalID string) string {
	switch {
	case cmd.ProposalID != proposalID:
		return "proposal_id"
	case cmd.Op != proposed.Op:
		return fmt.Sprintf("op %q, proposed %q", cmd.Op, proposed.Op)
	case cmd.Model != proposed.Model:
		return fmt.Sprintf("model %q, proposed %q", cmd.Model, proposed.Model)
	case cmd.Method != proposed.Method:
		return fmt.Sprintf("method %q, proposed %q", cmd.Method, proposed.Method)
	case !sameJSON(cmd.IDs, proposed.IDs):
		return fmt.Sprintf("ids %v, proposed %v", cmd.IDs, proposed.IDs)
	}
	keys := map[string]bool{}
	for k := range cmd.Values {
		keys[k] = true
	}
	for k := range proposed.Values {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		a, inCmd := cmd.Values[k]
		b, inProp := proposed.Values[k]
		if inCmd != inProp || !sameJSON(a, b) {
			return fmt.Sprintf("value of %s", k)
		}
	}
	return ""
}

func sameJSON(a, b any) bool {
	ca, err1 := schemas.CanonicalJSON(a)
	cb, err2 := schemas.CanonicalJSON(b)
	return err1 == nil && err2 == nil && string(ca) == string(cb)
}

// checkClick fetches the click the command names from MARIA_IN and checks
// it is the asker's Confirm click on this proposal, as ingress published
// it, showing the change whose digest is given.
func (s *Service) checkClick(ctx context.Context, m *bus.Msg, cmd *schemas.ERPCommand, prop *schemas.Proposal, digest string) error {
	conf := cmd.Confirmation
	if conf == nil || conf.EventID == "" || conf.StreamSeq == 0 {
		return rejected("the command carries no confirmation (the click event on %s)", schemas.StreamIn)
	}
	if conf.EventID != prop.DecidedEvent {
		return rejected("confirmation event %s is not the click that decided proposal %s", conf.EventID, prop.ID)
	}
	subject, data, err := getStreamMsg(ctx, m.Bus().Conn(), schemas.StreamIn, conf.StreamSeq)
	if errors.Is(err, errNoStreamMsg) {
		return rejected("confirmation click %s/%d not found", schemas.StreamIn, conf.StreamSeq)
	}
	if err != nil {
		return err
	}
	if want := schemas.InSubject(schemas.KindAction, prop.Team, prop.Channel); subject != want {
		return rejected("confirmation %s/%d is on %s, not %s", schemas.StreamIn, conf.StreamSeq, subject, want)
	}
	env, err := schemas.Decode(data)
	if err != nil {
		return rejected("confirmation %s/%d is not an envelope: %v", schemas.StreamIn, conf.StreamSeq, err)
	}
	switch {
	case env.ID != conf.EventID:
		return rejected("confirmation %s/%d has id %s, not %s", schemas.StreamIn, conf.StreamSeq, env.ID, conf.EventID)
	case env.Type != schemas.TypeSlackAction || env.Source != ingressSource:
		return rejected("confirmation %s is a %s from %s, not a Slack click from ingress", env.ID, env.Type, env.Source)
	case env.User != cmd.ConfirmedBy:
		return rejected("confirmation %s was clicked by %s, not %s", env.ID, env.User, cmd.ConfirmedBy)
	case env.Team != prop.Team || env.Channel != prop.Channel:
		return rejected("confirmation %s came from %s/%s, not %s/%s", env.ID, env.Team, env.Channel, prop.Team, prop.Channel)
	}
	var a schemas.SlackAction
	if err := json.Unmarshal(env.Data, &a); err != nil {
		return rejected("confirmation %s data: %v", env.ID, err)
	}
	switch {
	case a.ActionID != schemas.ActionERPConfirm:
		return rejected("confirmation %s is a %q click, not %q", env.ID, a.ActionID, schemas.ActionERPConfirm)
	case a.Value != prop.ID:
		return rejected("confirmation %s is for proposal %q, not %s", env.ID, a.Value, prop.ID)
	case a.BlockID != schemas.ConfirmBlockID(digest):
		return rejected("confirmation %s was given to another version of the change (digest mismatch)", env.ID)
	}
	return nil
}
