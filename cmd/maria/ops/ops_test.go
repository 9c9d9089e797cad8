package ops

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

func TestReplayMsgOriginalAndSandbox(t *testing.T) {
	env, _ := schemas.New("Ev-1", schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "1.0", Text: "hi"})
	body, _ := env.Marshal()
	h := nats.Header{}
	h.Set(schemas.HeaderMsgID, "Ev-1")
	h.Set(schemas.HeaderCorrelationID, "Ev-1")
	h.Set(schemas.HeaderTraceparent, "00-abc-def-01")
	orig := Stored{Stream: "MARIA_IN", Sequence: 7, Subject: "maria.in.message.T.C", Header: h, Data: body}

	m := ReplayMsg(orig, ToOriginal, "run9")
	got, err := schemas.Decode(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != orig.Subject || got.ID != "replay-Ev-1-run9" || m.Header.Get(schemas.HeaderMsgID) != got.ID ||
		m.Header.Get(schemas.HeaderReplay) != "run9" || got.CorrelationID != "Ev-1" || m.Header.Get(schemas.HeaderTraceparent) != "" {
		t.Fatalf("original-mode message %v %+v", m.Header, got)
	}
	if h.Get(schemas.HeaderMsgID) != "Ev-1" {
		t.Fatal("the stored headers were modified")
	}
	s := ReplayMsg(orig, ToSandbox, "run9")
	if s.Header.Get(schemas.HeaderMsgID) != "Ev-1" || !bytes.Equal(s.Data, body) || s.Header.Get(schemas.HeaderReplay) != "run9" {
		t.Fatalf("sandbox-mode message %v", s.Header)
	}
	// Not an envelope: the body is kept, the id still changes.
	raw := Stored{Stream: "X", Sequence: 3, Subject: "maria.in.message.T.C", Header: nats.Header{}, Data: []byte("garbage")}
	r := ReplayMsg(raw, ToOriginal, "r")
	if string(r.Data) != "garbage" || r.Header.Get(schemas.HeaderMsgID) != "replay-X-3-r" {
		t.Fatalf("raw replay %v %q", r.Header, r.Data)
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 100)
	t0 := p.start
	p.now = func() time.Time { return t0.Add(10 * time.Second) }
	p.Set(50)
	line := buf.String()
	for _, want := range []string{"50/100", " 50%", "5.0 msg/s", "ETA 10s", "###############..............."} {
		if !strings.Contains(line, want) {
			t.Fatalf("progress %q lacks %q", line, want)
		}
	}
	p.Done()
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Fatal("Done does not end the line")
	}
}

func TestConfirm(t *testing.T) {
	var out bytes.Buffer
	if err := Confirm(strings.NewReader("y\n"), &out, "go?"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "go? [y/N]") {
		t.Fatalf("prompt %q", out.String())
	}
	for _, in := range []string{"n\n", "\n", "", "yess\n"} {
		if err := Confirm(strings.NewReader(in), &out, "go?"); !errors.Is(err, ErrNotConfirmed) {
			t.Fatalf("answer %q: %v", in, err)
		}
	}
}

func TestFormatTail(t *testing.T) {
	env, _ := schemas.New("Ev-1", schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "1.0", Text: "thanks"})
	env.Team, env.Channel, env.ThreadTS = "T1", "C1", "1.0"
	body, _ := env.Marshal()
	m := nats.NewMsg("maria.in.message.T1.C1")
	m.Data = body
	m.Header.Set(schemas.HeaderReplay, "r1")
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	plain := FormatTail(m, at, TailOptions{})
	for _, want := range []string{"10:00:00.000 maria.in.message.T1.C1 slack.message.v1", "from=ingress", "corr=Ev-1", "at=T1/C1/1.0", "replay=r1", `"text":"thanks"`} {
		if !strings.Contains(plain, want) {
			t.Fatalf("%q lacks %q", plain, want)
		}
	}
	if strings.Contains(plain, "\x1b[") {
		t.Fatal("colour without Color")
	}
	if c := FormatTail(m, at, TailOptions{Color: true}); !strings.Contains(c, cCyan+"maria.in.message.T1.C1"+cReset) {
		t.Fatalf("no stage colour: %q", c)
	}
	bad := nats.NewMsg("maria.out.T1.C1")
	bad.Data = []byte("{not json")
	if s := FormatTail(bad, at, TailOptions{}); !strings.Contains(s, "not an envelope") {
		t.Fatalf("invalid body: %q", s)
	}
	if s := FormatTail(m, at, TailOptions{Raw: true, Headers: true}); !strings.Contains(s, string(body)) || !strings.Contains(s, "Maria-Replay: r1") {
		t.Fatalf("raw/headers: %q", s)
	}
}

func TestOdooCallClassification(t *testing.T) {
	call := func(method string) []byte {
		return []byte(`<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>` +
			`<param><value><string>db</string></value></param><param><value><int>2</int></value></param>` +
			`<param><value><string>key</string></value></param><param><value><string>sale.order</string></value></param>` +
			`<param><value><string>` + method + `</string></value></param><param><value><array><data></data></array></value></param></params></methodCall>`)
	}
	for method, read := range map[string]bool{"search_read": true, "read": true, "fields_get": true, "create": false, "write": false, "unlink": false, "action_confirm": false} {
		ok, what := xmlrpcIsRead(call(method))
		if ok != read || what != "sale.order."+method {
			t.Errorf("%s: read=%v (%s)", method, ok, what)
		}
	}
	if ok, _ := xmlrpcIsRead([]byte("<garbage")); ok {
		t.Error("garbage allowed")
	}
	if ok, what := jsonrpcIsRead([]byte(`{"params":{"service":"object","method":"execute_kw","args":["db",2,"k","crm.lead","create",[{}]]}}`)); ok || what != "crm.lead.create" {
		t.Errorf("jsonrpc create allowed (%s)", what)
	}
	if ok, _ := jsonrpcIsRead([]byte(`{"params":{"model":"crm.lead","method":"search_read"}}`)); !ok {
		t.Error("call_kw search_read refused")
	}
}

func TestHumanBytesAndDurations(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if got := FormatDuration(1234 * time.Millisecond); got != "1.23s" {
		t.Errorf("FormatDuration = %q", got)
	}
	if got := Truncate("a  b\n c", 10); got != "a b c" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Errorf("Truncate = %q", got)
	}
}
