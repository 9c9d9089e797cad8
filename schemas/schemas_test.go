package schemas

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSubjectBuildersRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		subject string
		want    Subject
	}{
		{"in", InSubject(KindMention, "T1", "C1"), Subject{Stage: "in", Kind: "mention", Team: "T1", Channel: "C1"}},
		{"in empty channel", InSubject(KindCommand, "T1", ""), Subject{Stage: "in", Kind: "command", Team: "T1", Channel: "_"}},
		{"out", OutSubject("T1", "D9"), Subject{Stage: "out", Team: "T1", Channel: "D9"}},
		{"out as stored, with its slot", OutSubject("T1", "D9") + ".17", Subject{Stage: "out", Team: "T1", Channel: "D9"}},
		{"erp command keeps model dots", ERPCommandSubject("sale.order.line"), Subject{Stage: "erp.command", Model: "sale.order.line"}},
		{"erp result", ERPResultSubject("crm.lead"), Subject{Stage: "erp.result", Model: "crm.lead"}},
		{"stored", StoredFileSubject("T1", "C1"), Subject{Stage: "stored.file", Team: "T1", Channel: "C1"}},
		{"delivered", DeliveredSubject("T1", "C1"), Subject{Stage: "delivered", Team: "T1", Channel: "C1"}},
		{"dlq", DLQSubject(StreamOut, "egress"), Subject{Stage: "dlq", Stream: StreamOut, Consumer: "egress"}},
		{"audit", AuditSubject("confirm"), Subject{Stage: "audit", Kind: "confirm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSubject(tt.subject)
			if err != nil {
				t.Fatalf("ParseSubject(%q): %v", tt.subject, err)
			}
			if got != tt.want {
				t.Fatalf("ParseSubject(%q) = %+v, want %+v", tt.subject, got, tt.want)
			}
		})
	}
}

func TestTokenCannotInjectTokensOrWildcards(t *testing.T) {
	for in, want := range map[string]string{
		"":          "_",
		"C123":      "C123",
		"a.b":       "a_b",
		"*":         "_",
		">":         "_",
		"x y\tz":    "x_y_z",
		"T1.>":      "T1__",
		"évian":     "évian",
		"line\nend": "line_end",
	} {
		if got := Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
	}
	s := InSubject("message", "T.1", "C>*")
	if strings.Count(s, ".") != 4 {
		t.Fatalf("subject %q has extra tokens", s)
	}
}

func TestParseSubjectRejects(t *testing.T) {
	for _, s := range []string{"", "maria", "maria.in.message.T1", "maria.in.message.T1.C1.x", "other.in.message.T1.C1",
		"maria.out.T1", "maria.erp.query", "maria.erp.command", "maria.dlq.X", "maria.in.>", "maria.unknown.a.b", "maria..x"} {
		if _, err := ParseSubject(s); err == nil {
			t.Errorf("ParseSubject(%q) accepted", s)
		}
	}
}

func TestEveryDeclaredSubjectIsCoveredByOneStream(t *testing.T) {
	concrete := []string{InSubject("message", "T", "C"), OutSubject("T", "C"), ERPCommandSubject("crm.lead"),
		ERPResultSubject("crm.lead"), StoredFileSubject("T", "C"), DeliveredSubject("T", "C"), DLQSubject("S", "c"), AuditSubject("confirm")}
	for _, s := range concrete {
		n := 0
		for _, st := range Streams {
			for _, f := range st.Subjects {
				if subjectMatches(f, s) {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("%s is captured by %d streams, want 1", s, n)
		}
	}
	for _, st := range Streams {
		for _, f := range st.Subjects {
			if subjectMatches(f, SubjectERPQuery) || subjectMatches(f, SubjectHistoryQuery) {
				t.Errorf("request/reply subject captured by stream %s", st.Name)
			}
		}
		if st.Duplicates < 10*time.Minute {
			t.Errorf("%s duplicates window %s < 10m (Slack retries for 5+ min)", st.Name, st.Duplicates)
		}
	}
	for _, c := range Consumers {
		st, ok := StreamByName(c.Stream)
		if !ok {
			t.Fatalf("consumer %s on unknown stream %s", c.Durable, c.Stream)
		}
		for _, f := range c.FilterSubjects {
			covered := false
			for _, sf := range st.Subjects {
				covered = covered || subjectMatches(sf, strings.Replace(f, ">", "x.y.z", 1))
			}
			if !covered {
				t.Errorf("consumer %s filter %s not in stream %s", c.Durable, f, c.Stream)
			}
		}
	}
}

// subjectMatches implements NATS wildcard matching for the test.
func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, tok := range p {
		if tok == ">" {
			return len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

func TestEnvelopeChildCarriesCorrelationAndIsDeterministic(t *testing.T) {
	parent, err := New("Ev1", TypeSlackMention, "ingress", SlackMessage{TS: "1.0", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	parent.Team, parent.Channel, parent.ThreadTS, parent.User = "T1", "C1", "1.0", "U1"
	a, _ := parent.Child("answer", TypeOutPost, "ai", OutPost{Text: "hello"})
	b, _ := parent.Child("answer", TypeOutPost, "ai", OutPost{Text: "hello again"})
	c, _ := parent.Child("status", TypeOutPost, "ai", OutPost{Text: "hello"})
	if a.ID != b.ID {
		t.Fatal("same parent/type/key must give the same id (dedup on republish)")
	}
	if a.ID == c.ID {
		t.Fatal("different keys must give different ids")
	}
	if a.CorrelationID != "Ev1" || a.CausationID != "Ev1" || a.Team != "T1" || a.Channel != "C1" || a.ThreadTS != "1.0" || a.User != "U1" {
		t.Fatalf("child lost context: %+v", a)
	}
	grand, _ := a.Child("delivered", TypeDelivered, "egress", Delivered{CommandID: a.ID})
	if grand.CorrelationID != "Ev1" || grand.CausationID != a.ID {
		t.Fatalf("grandchild correlation/causation wrong: %+v", grand)
	}
}

func TestDecodeValidatesAndToleratesUnknownFields(t *testing.T) {
	good, _ := New("", TypeSlackMessage, "ingress", SlackMessage{TS: "1", Text: "x"})
	raw, _ := good.Marshal()
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["future_field"] = 42
	withExtra, _ := json.Marshal(m)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", string(raw), true},
		{"unknown field tolerated", string(withExtra), true},
		{"not json", "{", false},
		{"empty object", "{}", false},
		{"missing type", `{"id":"1","source":"s","time":"2026-01-01T00:00:00Z","correlation_id":"1","data":{}}`, false},
		{"missing time", `{"id":"1","type":"t","source":"s","correlation_id":"1","data":{}}`, false},
		{"array", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if tt.ok && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidEnvelope) {
				t.Fatalf("want ErrInvalidEnvelope, got %v", err)
			}
		})
	}
}

func TestDecodeDataTypeMismatchIsInvalid(t *testing.T) {
	env, _ := New("", TypeSlackMessage, "ingress", map[string]any{"text": 12})
	if _, err := DecodeData[SlackMessage](env); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("want ErrInvalidEnvelope, got %v", err)
	}
	env.Data = nil
	if _, err := DecodeData[SlackMessage](env); !errors.Is(err, ErrInvalidEnvelope) {
		t.Fatalf("want ErrInvalidEnvelope for empty data, got %v", err)
	}
}

func TestOdooRecordURL(t *testing.T) {
	if got := OdooRecordURL("https://erp.example.com/", "sale.order", 42); got != "https://erp.example.com/web#id=42&model=sale.order&view_type=form" {
		t.Fatal(got)
	}
}

// FuzzDecode: whatever bytes arrive on a subject, decoding returns an
// envelope or ErrInvalidEnvelope, never panics, and a decoded envelope
// re-encodes to something that decodes to the same ids.
func FuzzDecode(f *testing.F) {
	good, _ := New("Ev1", TypeSlackMessage, "ingress", SlackMessage{TS: "1.0", Text: "hi"})
	raw, _ := good.Marshal()
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"1","type":"t","source":"s","time":"2026-01-01T00:00:00Z","correlation_id":"1","data":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidEnvelope) {
				t.Fatalf("error not typed: %v", err)
			}
			return
		}
		again, err := env.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		env2, err := Decode(again)
		if err != nil || env2.ID != env.ID || env2.CorrelationID != env.CorrelationID {
			t.Fatalf("round trip changed the envelope: %v", err)
		}
		_, _ = ParseSubject(string(b))
		_ = Token(string(b))
	})
}
