// Package schemas is the contract of the Maria pipeline: the event envelope,
// the typed payloads carried in it, the subject names and the stream and
// consumer specifications. Every service, in any language, agrees on what is
// declared here; the JSON Schemas in jsonschema/ are generated from these types.
package schemas

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Envelope wraps every message on the bus. The body of a NATS message is the
// JSON encoding of an Envelope; the headers mirror the fields operators filter
// on (see Header* constants) so tooling need not decode bodies.
type Envelope struct {
	// ID is unique per message and doubles as the JetStream Nats-Msg-Id, so a
	// republish of the same ID within the duplicates window is dropped.
	ID string `json:"id" jsonschema:"minLength=1"`
	// Type is a versioned event type such as "slack.message.v1".
	Type string `json:"type" jsonschema:"minLength=1"`
	// Source names the service that produced the message ("ingress", "ai", ...).
	Source string    `json:"source" jsonschema:"minLength=1"`
	Time   time.Time `json:"time"`
	// CorrelationID is shared by every message caused by one conversation turn.
	CorrelationID string `json:"correlation_id" jsonschema:"minLength=1"`
	// CausationID is the ID of the message that caused this one (empty at ingress).
	CausationID string `json:"causation_id,omitempty"`
	Team        string `json:"team,omitempty"`
	Channel     string `json:"channel,omitempty"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	User        string `json:"user,omitempty"`
	// UserTeam is the home workspace of User as Slack reported it; it differs
	// from Team for Slack Connect (external) users. Set by ingress.
	UserTeam string `json:"user_team,omitempty"`
	// UserKind is how ingress classified User (see UserKind* constants).
	// Processors gate sensitive access (the ERP) on it; empty means nobody
	// classified the user, which must be treated as UserKindUnknown.
	UserKind string `json:"user_kind,omitempty" jsonschema:"enum=,enum=member,enum=guest,enum=external,enum=bot,enum=unknown"`
	// UserAdmin is true when ingress found User to be an admin or owner of
	// Team (users.info is_admin / is_owner) and a member: who may edit the
	// workspace's settings. Set only by ingress, never copied to children.
	UserAdmin bool `json:"user_admin,omitempty"`
	// UserEmail is the Slack profile's email (users.info, scope
	// users:read.email), set by ingress only on events that open the
	// "Connect your Odoo account" form (AsksToConnect) to suggest the Odoo
	// login; never copied to children.
	UserEmail string `json:"user_email,omitempty"`
	// Data is the typed payload named by Type.
	Data json.RawMessage `json:"data"`
}

// User kinds (Envelope.UserKind), as ingress classifies the user behind an event.
const (
	// UserKindMember is a full member of the workspace the event came from.
	UserKindMember = "member"
	// UserKindGuest is a single- or multi-channel guest (users.info is_restricted / is_ultra_restricted).
	UserKindGuest = "guest"
	// UserKindExternal belongs to another workspace (Slack Connect: user_team ≠ team).
	UserKindExternal = "external"
	// UserKindBot is a bot or app user.
	UserKindBot = "bot"
	// UserKindUnknown could not be classified (lookup failed or disabled).
	UserKindUnknown = "unknown"
)

// ErrInvalidEnvelope reports a message that does not satisfy the contract.
// It is permanent: retrying the same bytes can never succeed.
var ErrInvalidEnvelope = errors.New("invalid envelope")

// NewID returns a random message id (128 bits, hex).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS is broken; nothing sane to do
	}
	return hex.EncodeToString(b[:])
}

// StableID derives a deterministic id from parts. Deterministic ids make
// republishing after a crash idempotent: the stream's duplicate window drops
// the second copy because it carries the same Nats-Msg-Id.
func StableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// New builds an envelope for a fresh conversation turn (ingress): the
// correlation id defaults to the message id.
func New(id, typ, source string, data any) (*Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	if id == "" {
		id = NewID()
	}
	return &Envelope{ID: id, Type: typ, Source: source, Time: time.Now().UTC(), CorrelationID: id, Data: raw}, nil
}

// Child builds a message caused by e: same correlation, team, channel, thread
// and user; causation = e.ID. key distinguishes several children of one
// parent and makes the child's id deterministic (see StableID).
func (e *Envelope) Child(key, typ, source string, data any) (*Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return &Envelope{
		ID:            StableID(e.ID, typ, key),
		Type:          typ,
		Source:        source,
		Time:          time.Now().UTC(),
		CorrelationID: e.CorrelationID,
		CausationID:   e.ID,
		Team:          e.Team,
		Channel:       e.Channel,
		ThreadTS:      e.ThreadTS,
		User:          e.User,
		UserTeam:      e.UserTeam,
		UserKind:      e.UserKind,
		Data:          raw,
	}, nil
}

// Marshal encodes the envelope.
func (e *Envelope) Marshal() ([]byte, error) { return json.Marshal(e) }

// Validate checks the fields every consumer relies on.
func (e *Envelope) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: missing id", ErrInvalidEnvelope)
	case e.Type == "":
		return fmt.Errorf("%w: missing type", ErrInvalidEnvelope)
	case e.Source == "":
		return fmt.Errorf("%w: missing source", ErrInvalidEnvelope)
	case e.CorrelationID == "":
		return fmt.Errorf("%w: missing correlation_id", ErrInvalidEnvelope)
	case e.Time.IsZero():
		return fmt.Errorf("%w: missing time", ErrInvalidEnvelope)
	}
	return nil
}

// Decode parses and validates an envelope. Unknown fields are tolerated so
// that newer producers do not break older consumers.
func Decode(b []byte) (*Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEnvelope, err)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// DecodeData parses the payload into T. The caller names the type it expects;
// a mismatch is reported as ErrInvalidEnvelope (permanent).
func DecodeData[T any](e *Envelope) (*T, error) {
	var v T
	if len(e.Data) == 0 {
		return nil, fmt.Errorf("%w: %s has no data", ErrInvalidEnvelope, e.Type)
	}
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return nil, fmt.Errorf("%w: %s data: %v", ErrInvalidEnvelope, e.Type, err)
	}
	return &v, nil
}

// NATS header names carried on every message.
const (
	HeaderMsgID         = "Nats-Msg-Id"
	HeaderType          = "Maria-Type"
	HeaderSource        = "Maria-Source"
	HeaderCorrelationID = "Maria-Correlation-Id"
	HeaderCausationID   = "Maria-Causation-Id"
	HeaderTraceparent   = "traceparent"
	HeaderTracestate    = "tracestate"
	// HeaderReplay marks a message re-driven by `maria replay` or `maria dlq redrive`.
	HeaderReplay = "Maria-Replay"
	// Dead-letter headers.
	HeaderDLQReason     = "Maria-Dlq-Reason"
	HeaderDLQStream     = "Maria-Dlq-Stream"
	HeaderDLQConsumer   = "Maria-Dlq-Consumer"
	HeaderDLQSubject    = "Maria-Dlq-Subject"
	HeaderDLQSequence   = "Maria-Dlq-Sequence"
	HeaderDLQDeliveries = "Maria-Dlq-Deliveries"
	HeaderDLQOrigMsgID  = "Maria-Dlq-Orig-Msg-Id"
	// HeaderDLQStack is, on the dead letter of a handler panic, where it
	// panicked: one line, the panicking function first.
	HeaderDLQStack = "Maria-Dlq-Stack"
)
