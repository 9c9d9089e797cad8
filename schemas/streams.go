package schemas

import "time"

// Stream names.
const (
	StreamIn        = "MARIA_IN"
	StreamOut       = "MARIA_OUT"
	StreamERP       = "MARIA_ERP"
	StreamStored    = "MARIA_STORED"
	StreamDelivered = "MARIA_DELIVERED"
	StreamDLQ       = "MARIA_DLQ"
	StreamAudit     = "MARIA_AUDIT"
)

// StreamSpec declares a stream. It is plain data so it can be rendered for
// other languages; bus turns it into a JetStream configuration. Replicas are
// chosen at deploy time (1 embedded, 3 on a cluster).
type StreamSpec struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Subjects    []string      `json:"subjects"`
	MaxAge      time.Duration `json:"max_age"`
	MaxBytes    int64         `json:"max_bytes"`
	// MaxMsgSize bounds one message; uploads ride inline on MARIA_OUT.
	MaxMsgSize int32 `json:"max_msg_size"`
	// Duplicates is the Nats-Msg-Id dedup window: it must outlast Slack's
	// retry schedule (≈ at once, +1 min, +5 min).
	Duplicates time.Duration `json:"duplicates"`
	// Transform, when set, rewrites the subject of what the stream stores
	// (a JetStream stream subject transform; publishers are unaffected).
	Transform *SubjectTransform `json:"subject_transform,omitempty"`
}

// SubjectTransform maps subjects matching Src to Dest, in NATS subject
// mapping syntax ({{wildcard(n)}}, {{partition(n,…)}}).
type SubjectTransform struct {
	Src  string `json:"src"`
	Dest string `json:"dest"`
}

const (
	day = 24 * time.Hour
	gib = int64(1) << 30
)

// Streams lists every stream Maria creates at start, idempotently.
var Streams = []StreamSpec{
	{Name: StreamIn, Description: "Slack events normalized by ingress", Subjects: []string{SubjectInAll},
		MaxAge: 7 * day, MaxBytes: 10 * gib, MaxMsgSize: 1 << 20, Duplicates: 10 * time.Minute},
	{Name: StreamOut, Description: "commands for egress (post, update, stream, status, react, upload)", Subjects: []string{SubjectOutAll},
		MaxAge: 7 * day, MaxBytes: 10 * gib, MaxMsgSize: 8 << 20, Duplicates: 10 * time.Minute, Transform: OutSlotTransform()},
	{Name: StreamERP, Description: "confirmed ERP writes and their results", Subjects: []string{SubjectERPCommandAll, SubjectERPResultAll},
		MaxAge: 7 * day, MaxBytes: 2 * gib, MaxMsgSize: 1 << 20, Duplicates: 10 * time.Minute},
	{Name: StreamStored, Description: "files stored in object storage", Subjects: []string{SubjectStoredAll},
		MaxAge: 7 * day, MaxBytes: 2 * gib, MaxMsgSize: 1 << 20, Duplicates: 10 * time.Minute},
	{Name: StreamDelivered, Description: "egress deliveries with Slack ts", Subjects: []string{SubjectDeliveredAll},
		MaxAge: 7 * day, MaxBytes: 5 * gib, MaxMsgSize: 1 << 20, Duplicates: 10 * time.Minute},
	{Name: StreamDLQ, Description: "dead letters: original message, reason, delivery count", Subjects: []string{SubjectDLQAll},
		MaxAge: 30 * day, MaxBytes: 5 * gib, MaxMsgSize: 8 << 20, Duplicates: 10 * time.Minute},
	{Name: StreamAudit, Description: "audit trail of confirmation clicks and ERP writes", Subjects: []string{SubjectAuditAll},
		MaxAge: 400 * day, MaxBytes: 5 * gib, MaxMsgSize: 1 << 20, Duplicates: 10 * time.Minute},
}

// StreamByName returns the spec of a declared stream.
func StreamByName(name string) (StreamSpec, bool) {
	for _, s := range Streams {
		if s.Name == name {
			return s, true
		}
	}
	return StreamSpec{}, false
}

// ConsumerSpec declares a durable pull consumer, shared by every replica of
// one processor (that is how a processor scales out).
type ConsumerSpec struct {
	Durable        string          `json:"durable"`
	Stream         string          `json:"stream"`
	FilterSubjects []string        `json:"filter_subjects"`
	AckWait        time.Duration   `json:"ack_wait"`
	MaxDeliver     int             `json:"max_deliver"`
	BackOff        []time.Duration `json:"backoff"`
	MaxAckPending  int             `json:"max_ack_pending"`
	// PinnedTTL, for a pinned consumer (one replica delivers at a time), is
	// how long the server keeps the pin of a replica that stopped pulling
	// before a standby gets it.
	PinnedTTL time.Duration `json:"pinned_ttl,omitempty"`
}

// FailoverAckWait is the ack wait of Maria's processors. While a handler
// runs — or its message waits behind another of its key — the runtime sends
// InProgress every third of it, so it bounds only how long the message of a
// replica that died (kill -9, lost host) waits before another replica gets
// it: a few seconds, not a minute. It must outlast a heartbeat or two lost
// to a busy process or a brief network stall.
const FailoverAckWait = 4 * time.Second

// EgressPinnedTTL is how long a silent egress replica keeps the pin before
// a standby takes over: the pinned replica pulls again well within it
// while alive (the runtime's pulls expire sooner), so only a dead one
// loses it.
const EgressPinnedTTL = 3 * time.Second

// DefaultBackOff is the redelivery schedule for retryable failures; its
// length+1 is the default MaxDeliver.
var DefaultBackOff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute}

// Consumers lists the durable consumers of Maria's own processors. A new
// processor declares its own spec; it need not be listed here.
var Consumers = []ConsumerSpec{
	{Durable: "ai", Stream: StreamIn, FilterSubjects: []string{InKindFilter(KindMention), InKindFilter(KindMessage), InKindFilter(KindCommand), InKindFilter(KindAssistant), InKindFilter(KindAction), InKindFilter(KindHome)},
		AckWait: FailoverAckWait, MaxDeliver: 5, BackOff: DefaultBackOff, MaxAckPending: 64},
	// egress: the template of its partition consumers (egress-<i>-of-<n>,
	// egress/partitions.go); no consumer is named "egress" itself.
	// MaxDeliver is only a backstop. A command waiting behind an
	// earlier one of its thread, or behind a channel's 429, is nak'd without
	// failing, and each such delivery counts; egress bounds real failures
	// itself (MARIA_EGRESS_MAX_ATTEMPTS) and dead-letters with the reason.
	{Durable: "egress", Stream: StreamOut, FilterSubjects: []string{SubjectOutAll},
		AckWait: FailoverAckWait, MaxDeliver: 100, BackOff: DefaultBackOff, MaxAckPending: 256, PinnedTTL: EgressPinnedTTL},
	{Durable: "erp", Stream: StreamERP, FilterSubjects: []string{SubjectERPCommandAll},
		AckWait: FailoverAckWait, MaxDeliver: 5, BackOff: DefaultBackOff, MaxAckPending: 16},
	{Durable: "storage-files", Stream: StreamIn, FilterSubjects: []string{InKindFilter(KindFile)},
		AckWait: FailoverAckWait, MaxDeliver: 5, BackOff: DefaultBackOff, MaxAckPending: 16},
	// Thread history: every inbound message and every delivered reply.
	{Durable: "storage-history-in", Stream: StreamIn, FilterSubjects: []string{InKindFilter(KindMessage), InKindFilter(KindMention), InKindFilter(KindCommand)},
		AckWait: FailoverAckWait, MaxDeliver: 5, BackOff: DefaultBackOff, MaxAckPending: 256},
	{Durable: "storage-history-out", Stream: StreamDelivered, FilterSubjects: []string{SubjectDeliveredAll},
		AckWait: FailoverAckWait, MaxDeliver: 5, BackOff: DefaultBackOff, MaxAckPending: 256},
}

// ConsumerByName returns a declared consumer spec.
func ConsumerByName(durable string) (ConsumerSpec, bool) {
	for _, c := range Consumers {
		if c.Durable == durable {
			return c, true
		}
	}
	return ConsumerSpec{}, false
}
