package ops_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"
	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/odoosim"
)

// Without NATS_URL, operator commands attach to a running maria's embedded
// server (MARIA_NATS_LISTEN); with nothing listening there they open the
// data dir themselves.
func TestConnectFindsRunningMariaOrOpensDataDir(t *testing.T) {
	live := bustest.New(t)
	ctx := ctxT(t)
	addr := strings.TrimPrefix(live.ClientURL(), "nats://")
	// Another data dir holds no identity for the running server: a clear
	// error, not an anonymous attempt.
	if _, err := ops.Connect(ctx, config.NewEnvFrom(map[string]string{"MARIA_NATS_LISTEN": addr, "MARIA_DATA_DIR": t.TempDir()}), nil); err == nil ||
		!strings.Contains(err.Error(), "NATS_CREDS") {
		t.Fatalf("attach without credentials: err = %v, want one naming NATS_CREDS", err)
	}
	// NATS_URL without NATS_CREDS: refused by the server, and told how to fix it.
	if _, err := ops.Connect(ctx, config.NewEnvFrom(map[string]string{"NATS_URL": live.ClientURL(), "MARIA_DATA_DIR": t.TempDir()}), nil); err == nil ||
		!strings.Contains(err.Error(), "refuses anonymous clients: set NATS_CREDS") {
		t.Fatalf("NATS_URL without credentials: err = %v", err)
	}
	// The running maria's data dir holds its operator identity.
	b, err := ops.Connect(ctx, config.NewEnvFrom(map[string]string{"MARIA_NATS_LISTEN": addr, "MARIA_DATA_DIR": live.Config().DataDir}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Embedded() {
		t.Fatal("started its own server although maria is running")
	}
	if _, err := b.JetStream().Stream(ctx, schemas.StreamIn); err != nil {
		t.Fatalf("not on the running server: %v", err)
	}
	b.Close()

	// A stopped deployment: its data dir holds the streams.
	dir := t.TempDir()
	stopped := bustest.New(t, bustest.Options{DataDir: dir})
	publishMessage(t, stopped, "Ev-1", "C1", "hello")
	stopped.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port nobody listens on afterwards
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	b, err = ops.Connect(ctx, config.NewEnvFrom(map[string]string{"MARIA_NATS_LISTEN": free, "MARIA_DATA_DIR": dir}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.Embedded() {
		t.Fatal("did not open the data dir")
	}
	sel, err := ops.Select(ctx, b.JetStream(), schemas.StreamIn, ops.Window{FromSeq: 1})
	if err != nil || len(sel) != 1 || sel[0].Info.CorrelationID != "Ev-1" {
		t.Fatalf("data dir contents %+v %v", sel, err)
	}
	if !strings.Contains(ops.Where(b), dir) {
		t.Fatalf("where: %s", ops.Where(b))
	}
}

// maria streams: per stream and consumer, lag (pending + unacknowledged),
// pending, ack pending and the consumer's dead letters.
func TestStreamsReportsConsumersAndDeadLetters(t *testing.T) {
	b := bustest.New(t)
	ctx := ctxT(t)
	runFlaky(t, b)
	publishMessage(t, b, "Ev-1", "C1", "a")
	bustest.Eventually(t, 10*time.Second, func() bool { return len(dlqRows(t, b)) == 1 && consumerIdle(ctx, b, schemas.StreamIn, "flaky") }, "dead letter")
	publishMessage(t, b, "Ev-2", "C1", "b") // fails too: a second dead letter
	bustest.Eventually(t, 10*time.Second, func() bool { return len(dlqRows(t, b)) == 2 }, "second dead letter")
	// A consumer that never ran: everything pending.
	if _, err := b.JetStream().CreateOrUpdateConsumer(ctx, schemas.StreamIn, bus.Processor{Name: "idle", Stream: schemas.StreamIn,
		Subjects: []string{schemas.SubjectInAll}, AckWait: time.Minute, MaxDeliver: 3, MaxAckPending: 10}.ConsumerConfig()); err != nil {
		t.Fatal(err)
	}
	st, err := ops.Streams(ctx, b.JetStream(), false)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].Name != schemas.StreamIn || st[0].Messages != 2 || st[0].LastSeq != 2 || len(st[0].Consumers) != 2 {
		t.Fatalf("MARIA_IN %+v", st[0])
	}
	cs := map[string]ops.ConsumerHealth{}
	for _, c := range st[0].Consumers {
		cs[c.Name] = c
	}
	if f := cs["flaky"]; f.DeadLetters != 2 || f.Pending != 0 || f.AckPending != 0 || f.Lag != 0 || !f.Durable {
		t.Fatalf("flaky %+v", f)
	}
	if i := cs["idle"]; i.Pending != 2 || i.Lag != 2 || i.DeadLetters != 0 {
		t.Fatalf("idle %+v", i)
	}
	var dlq ops.StreamHealth
	for _, s := range st {
		if s.Name == schemas.StreamDLQ {
			dlq = s
		}
	}
	if dlq.Messages != 2 {
		t.Fatalf("DLQ %+v", dlq)
	}
	var out bytes.Buffer
	ops.PrintStreams(&out, st)
	for _, want := range []string{"MARIA_IN", "LAG", "flaky", "idle"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// maria tail prints every message published, decoded.
func TestTailPrintsDecodedMessages(t *testing.T) {
	b := bustest.New(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	var out bytes.Buffer
	w := &syncWriter{w: &out}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		close(ready)
		done <- ops.Tail(ctx, b.Conn(), "maria.in.>", w, ops.TailOptions{Headers: true})
	}()
	<-ready
	read := func() string { w.mu.Lock(); defer w.mu.Unlock(); return out.String() }
	// Publish until the subscription is in place and the line shows up.
	bustest.Eventually(t, 10*time.Second, func() bool {
		publishMessage(t, b, "Ev-tail", "C9", "hello tail")
		return strings.Contains(read(), "hello tail")
	}, "tail output")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := read()
	for _, want := range []string{"maria.in.message.T1.C9", schemas.TypeSlackMessage, "corr=Ev-tail", "at=T1/C9", "Nats-Msg-Id: Ev-tail"} {
		if !strings.Contains(s, want) {
			t.Fatalf("tail output lacks %q:\n%s", want, s)
		}
	}
}

// The Odoo guard lets reads through to Odoo and refuses every write, over
// XML-RPC and JSON-2.
func TestOdooGuardReadOnly(t *testing.T) {
	odoo := odoosim.New(t)
	g, err := ops.StartOdooGuard(odoo.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	common, err := xmlrpc.NewClient(g.URL()+"/xmlrpc/2/common", nil)
	if err != nil {
		t.Fatal(err)
	}
	var uid int64
	if err := common.Call("authenticate", []any{odoo.DB, odoo.User, odoo.Password, map[string]any{}}, &uid); err != nil || uid == 0 {
		t.Fatalf("authenticate through the guard: %v %d", err, uid)
	}
	obj, err := xmlrpc.NewClient(g.URL()+"/xmlrpc/2/object", nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := obj.Call("execute_kw", []any{odoo.DB, uid, odoo.Password, "res.partner", "search_count", []any{[]any{}}}, &n); err != nil || n == 0 {
		t.Fatalf("search_count through the guard: %v %d", err, n)
	}
	before := odoo.Count("crm.lead")
	var id int64
	err = obj.Call("execute_kw", []any{odoo.DB, uid, odoo.Password, "crm.lead", "create", []any{map[string]any{"name": "Acme"}}}, &id)
	if err == nil || !strings.Contains(err.Error(), ops.OdooRefusal) {
		t.Fatalf("create through the guard: %v", err)
	}
	if odoo.Calls("crm.lead.create") != 0 || odoo.Count("crm.lead") != before {
		t.Fatal("the create reached Odoo")
	}
	req, _ := http.NewRequest(http.MethodPost, g.URL()+"/json/2/crm.lead/write", strings.NewReader(`{"ids":[1],"vals":{"name":"x"}}`))
	req.Header.Set("Authorization", "bearer "+odoo.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || odoo.Calls("crm.lead.write") != 0 {
		t.Fatalf("JSON-2 write: status %d, odoo writes %d", resp.StatusCode, odoo.Calls("crm.lead.write"))
	}
	if r := g.Refused(); len(r) != 2 || r[0] != "crm.lead.create" || r[1] != "crm.lead.write" {
		t.Fatalf("refused %v", r)
	}
}
