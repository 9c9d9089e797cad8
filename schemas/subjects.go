package schemas

import (
	"fmt"
	"strings"
)

// Root is the first token of every Maria subject.
const Root = "maria"

// Inbound kinds: the <kind> token of maria.in.<kind>.<team>.<channel>.
const (
	KindMessage   = "message"
	KindMention   = "mention"
	KindCommand   = "command"
	KindAction    = "action"
	KindFile      = "file"
	KindReaction  = "reaction"
	KindAssistant = "assistant"
	// KindHome is the App Home tab and its modals: app_home_opened, clicks
	// on Home or modal buttons, view_submission (channel = the user).
	KindHome = "home"
)

// Kinds lists every inbound kind.
var Kinds = []string{KindMessage, KindMention, KindCommand, KindAction, KindFile, KindReaction, KindAssistant, KindHome}

// Subject patterns consumers subscribe to.
const (
	SubjectInAll         = "maria.in.>"
	SubjectOutAll        = "maria.out.>"
	SubjectERPCommandAll = "maria.erp.command.>"
	SubjectERPResultAll  = "maria.erp.result.>"
	SubjectStoredAll     = "maria.stored.>"
	SubjectDeliveredAll  = "maria.delivered.>"
	SubjectDLQAll        = "maria.dlq.>"
	SubjectAuditAll      = "maria.audit.>"
	// SubjectERPQuery is the request/reply endpoint of the ERP query service.
	// It is deliberately in no stream: reads are idempotent and synchronous.
	SubjectERPQuery = "maria.erp.query"
	// SubjectHistoryQuery is the request/reply endpoint serving thread history.
	SubjectHistoryQuery = "maria.history.query"
)

// Token makes s safe as one subject token: Slack ids are already safe, but
// anything reaching a subject from outside is sanitised so it can never add
// tokens or wildcards. Empty becomes "_".
func Token(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f:
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// InSubject is where ingress publishes: maria.in.<kind>.<team>.<channel>.
func InSubject(kind, team, channel string) string {
	return fmt.Sprintf("maria.in.%s.%s.%s", Token(kind), Token(team), Token(channel))
}

// InKindFilter matches every inbound event of one kind.
func InKindFilter(kind string) string { return "maria.in." + Token(kind) + ".>" }

// OutSubject is where processors send commands for egress.
func OutSubject(team, channel string) string {
	return fmt.Sprintf("maria.out.%s.%s", Token(team), Token(channel))
}

// OutSlots is the number of slots MARIA_OUT stores commands in: the stream
// appends a slot token, a hash of (team, channel), to every command's
// subject (maria.out.<team>.<channel>.<slot>), so a channel's commands —
// hence each of its threads — always share one slot, and egress replicas
// can split the slots between them (see OutSlotFilter). Fixed: changing it
// moves channels between slots.
const OutSlots = 64

// OutSlotTransform is MARIA_OUT's subject transform that adds the slot.
func OutSlotTransform() *SubjectTransform {
	return &SubjectTransform{Src: "maria.out.*.*",
		Dest: fmt.Sprintf("maria.out.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(%d,1,2)}}", OutSlots)}
}

// OutSlotFilter matches the commands stored in one slot of MARIA_OUT.
func OutSlotFilter(slot int) string { return fmt.Sprintf("maria.out.*.*.%d", slot) }

// ERPCommandSubject carries a confirmed write; the Odoo model keeps its dots,
// so "sale.order" becomes maria.erp.command.sale.order and
// maria.erp.command.sale.> selects every sale model.
func ERPCommandSubject(model string) string { return "maria.erp.command." + modelTokens(model) }

// ERPResultSubject carries the outcome of a write.
func ERPResultSubject(model string) string { return "maria.erp.result." + modelTokens(model) }

// StoredFileSubject announces a stored file.
func StoredFileSubject(team, channel string) string {
	return fmt.Sprintf("maria.stored.file.%s.%s", Token(team), Token(channel))
}

// DeliveredSubject records a delivery by egress.
func DeliveredSubject(team, channel string) string {
	return fmt.Sprintf("maria.delivered.%s.%s", Token(team), Token(channel))
}

// DLQSubject is where dead letters of one consumer go.
func DLQSubject(stream, consumer string) string {
	return fmt.Sprintf("maria.dlq.%s.%s", Token(stream), Token(consumer))
}

// AuditSubject carries audit records of one kind (confirm, cancel, erp_write).
func AuditSubject(kind string) string { return "maria.audit." + Token(kind) }

func modelTokens(model string) string {
	parts := strings.Split(model, ".")
	for i, p := range parts {
		parts[i] = Token(p)
	}
	return strings.Join(parts, ".")
}

// Subject is a parsed Maria subject.
type Subject struct {
	Stage    string // in, out, erp.command, erp.result, stored.file, delivered, dlq, audit
	Kind     string // inbound kind, audit kind
	Team     string
	Channel  string
	Model    string // ERP model
	Stream   string // DLQ: original stream
	Consumer string // DLQ: original consumer
}

// ParseSubject splits a concrete Maria subject into its parts.
func ParseSubject(s string) (Subject, error) {
	t := strings.Split(s, ".")
	bad := func() (Subject, error) { return Subject{}, fmt.Errorf("not a maria subject: %q", s) }
	if len(t) < 3 || t[0] != Root {
		return bad()
	}
	for _, tok := range t {
		if tok == "" || tok == "*" || tok == ">" {
			return bad()
		}
	}
	switch t[1] {
	case "in":
		if len(t) != 5 {
			return bad()
		}
		return Subject{Stage: "in", Kind: t[2], Team: t[3], Channel: t[4]}, nil
	case "out":
		// As published (4 tokens) or as MARIA_OUT stores it, with its slot.
		if len(t) != 4 && len(t) != 5 {
			return bad()
		}
		return Subject{Stage: "out", Team: t[2], Channel: t[3]}, nil
	case "delivered":
		if len(t) != 4 {
			return bad()
		}
		return Subject{Stage: "delivered", Team: t[2], Channel: t[3]}, nil
	case "stored":
		if len(t) != 5 || t[2] != "file" {
			return bad()
		}
		return Subject{Stage: "stored.file", Team: t[3], Channel: t[4]}, nil
	case "erp":
		if len(t) < 4 || (t[2] != "command" && t[2] != "result") {
			return bad()
		}
		return Subject{Stage: "erp." + t[2], Model: strings.Join(t[3:], ".")}, nil
	case "dlq":
		if len(t) != 4 {
			return bad()
		}
		return Subject{Stage: "dlq", Stream: t[2], Consumer: t[3]}, nil
	case "audit":
		if len(t) != 3 {
			return bad()
		}
		return Subject{Stage: "audit", Kind: t[2]}, nil
	}
	return bad()
}
