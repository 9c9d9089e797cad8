package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

// tail decodes every kind of message, not only envelopes: an ERP query and
// its reply (request/reply on the requester's inbox, in no stream), a dead
// letter whose body was never an envelope — and prints Slack's "<@U1>" as
// is, not as "\u003c@U1\u003e".
func TestTailDecodesEveryKindWithoutEscaping(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	var out bytes.Buffer
	w := &syncWriter{w: &out}
	done := make(chan error, 1)
	go func() { done <- ops.Tail(ctx, b.Conn(), "maria.>", w, ops.TailOptions{}) }()
	read := func() string { w.mu.Lock(); defer w.mu.Unlock(); return out.String() }
	// A responder standing in for the erp service.
	sub, err := b.Conn().Subscribe(schemas.SubjectERPQuery, func(m *nats.Msg) {
		body, _ := json.Marshal(schemas.ERPReply{Records: []map[string]any{{"id": 7, "name": "Acme <EU> & Co"}}})
		_ = m.Respond(body)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	query, _ := json.Marshal(schemas.ERPQuery{Method: "search_read", Model: "res.partner", Limit: 1})
	bustest.Eventually(t, 10*time.Second, func() bool {
		publishMessage(t, b, "Ev-tail-"+time.Now().Format("150405.000000"), "C9", "<@U0MARIA> who is Acme?")
		req := &nats.Msg{Subject: schemas.SubjectERPQuery, Data: query, Header: nats.Header{schemas.HeaderCorrelationID: []string{"corr-tail-1"}}}
		if _, err := b.Conn().RequestMsg(req, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		return strings.Contains(read(), "who is Acme?") && strings.Contains(read(), schemas.TypeERPReply)
	}, "tail shows the message, and the query with its reply")
	dl := nats.NewMsg(schemas.DLQSubject(schemas.StreamIn, "ai"))
	dl.Data = []byte("not json at all")
	dl.Header.Set(schemas.HeaderDLQReason, "cannot parse")
	if _, err := b.JetStream().PublishMsg(ctxT(t), dl); err != nil {
		t.Fatal(err)
	}
	bustest.Eventually(t, 10*time.Second, func() bool { return strings.Contains(read(), "not json at all") }, "tail shows the dead letter")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := read()
	for _, want := range []string{
		"<@U0MARIA> who is Acme?",
		"maria.erp.query " + schemas.TypeERPQuery + " corr=corr-tail-1",
		"maria.erp.query (reply) " + schemas.TypeERPReply + " corr=corr-tail-1",
		`"name":"Acme <EU> & Co"`,
		"maria.dlq.MARIA_IN.ai dead letter", "reason=cannot parse",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("tail output lacks %q:\n%s", want, s)
		}
	}
	for _, bad := range []string{"not an envelope", `\u003c`, `\u0026`} {
		if strings.Contains(s, bad) {
			t.Errorf("tail output has %q:\n%s", bad, s)
		}
	}
}
