package schemas

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ProposalBucket is the JetStream KV bucket of ERP change proposals. The ai
// processor owns it (creates it, writes every state change); the erp service
// only reads it, to check that a command is one a user confirmed.
const ProposalBucket = "maria_proposals"

// Action ids of a proposal's buttons (SlackAction.ActionID).
const (
	ActionERPConfirm = "erp_confirm"
	ActionERPCancel  = "erp_cancel"
)

// Proposal states (Proposal.Status).
const (
	ProposalPending   = "pending"
	ProposalConfirmed = "confirmed"
	ProposalCancelled = "cancelled"
	ProposalDone      = "done"
	ProposalFailed    = "failed"
)

// Proposal is the record of one ERP change proposal in ProposalBucket, keyed
// by its id. See README.md "ERP confirmation".
type Proposal struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Command is the change exactly as shown to the user.
	Command ERPCommand `json:"command"`
	// User is the Slack user who asked; only they may confirm.
	User     string `json:"user"`
	Team     string `json:"team"`
	Channel  string `json:"channel"`
	ThreadTS string `json:"thread_ts,omitempty"`
	// Digest is ERPCommandDigest of Command for User in Team/Channel; the
	// Confirm button's block carries it (ConfirmBlockID), so the click
	// event names the exact change it confirmed.
	Digest string `json:"digest,omitempty"`
	// RecordNames are the display names of Command.IDs and ValueNames the
	// names of the records many2one values point to, as shown (display only).
	RecordNames map[string]string `json:"record_names,omitempty"`
	ValueNames  map[string]string `json:"value_names,omitempty"`
	// Ref names the proposal's Slack message for out.update.
	Ref string `json:"ref"`
	// MessageTS is learnt from the click (the message's ts).
	MessageTS string    `json:"message_ts,omitempty"`
	Created   time.Time `json:"created"`
	// DecidedBy / DecidedEvent: who clicked and the action event (envelope
	// id) that won the claim; DecidedSeq is its MARIA_IN stream sequence.
	DecidedBy    string    `json:"decided_by,omitempty"`
	DecidedEvent string    `json:"decided_event,omitempty"`
	DecidedSeq   uint64    `json:"decided_seq,omitempty"`
	Decided      time.Time `json:"decided,omitzero"`
	Outcome      string    `json:"outcome,omitempty"`
	// CorrelationID of the turn that proposed it (for tracing).
	CorrelationID string `json:"correlation_id,omitempty"`
}

// ERPConfirmation points at the human click behind a command: the
// slack.action.v1 event ingress published on MARIA_IN after checking Slack's
// signature. The erp service fetches it by sequence and checks it.
type ERPConfirmation struct {
	// EventID is the click's envelope id.
	EventID string `json:"event_id" jsonschema:"minLength=1"`
	// StreamSeq is the click's sequence in the MARIA_IN stream.
	StreamSeq uint64 `json:"stream_seq" jsonschema:"minimum=1"`
}

// confirmBlockPrefix starts the block_id of a proposal's buttons.
const confirmBlockPrefix = "erp_proposal."

// ConfirmBlockID is the block_id of the actions block holding a proposal's
// Confirm button: it carries the digest of the change shown, and Slack
// sends it back with the click.
func ConfirmBlockID(digest string) string { return confirmBlockPrefix + digest }

// ERPCommandDigest is the sha256 (hex) of the canonical JSON of what a user
// confirms: op, model, ids, values and proposal id of cmd, the asking user
// and the conversation. ConfirmedBy and Confirmation are not part of it.
func ERPCommandDigest(cmd ERPCommand, asker, team, channel string) (string, error) {
	fields := map[string]any{"op": cmd.Op, "model": cmd.Model, "ids": cmd.IDs, "values": cmd.Values,
		"proposal_id": cmd.ProposalID, "asker": asker, "team": team, "channel": channel}
	if cmd.Method != "" {
		// Only actions have one: create/write digests stay as they were.
		fields["method"] = cmd.Method
	}
	c, err := CanonicalJSON(fields)
	if err != nil {
		return "", fmt.Errorf("erp command digest: %w", err)
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// CanonicalJSON encodes v so that equal JSON values give equal bytes
// whatever decoded them: object keys sorted, no insignificant space, and
// numbers normalized (integers exactly, "5000.0" = 5000, other numbers as
// float64 would print), so a float64 and a json.Number of the same value
// compare equal.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return json.Marshal(canonicalNumbers(tree))
}

func canonicalNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = canonicalNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = canonicalNumbers(e)
		}
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		if f, err := strconv.ParseFloat(x.String(), 64); err == nil {
			if i := int64(f); float64(i) == f && f >= -(1<<53) && f <= 1<<53 {
				return json.Number(strconv.FormatInt(i, 10))
			}
			return f
		}
	}
	return v
}
