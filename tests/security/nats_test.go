// Package security proves Maria's least-privilege NATS configuration
// (infra/nats) and that secrets never reach logs or errors.
package security

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/bus/telemetry"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
)

// repoFile resolves a path relative to the repository root.
func repoFile(parts ...string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(here), "..", ".."}, parts...)...)
}

// users of infra/nats/accounts.conf and the variable holding each
// password: Maria's users (natsconn.Users, so a processor added by `maria
// new processor` needs no edit here) and the server's own sys.
var users = func() map[string]string {
	m := map[string]string{"sys": "SYS_PASSWORD"}
	for _, u := range natsconn.Users() {
		m[u] = strings.ToUpper(u) + "_PASSWORD"
	}
	return m
}()

// passwords are generated once per run and exported as the variables the
// config reads, so tests using the config can run in parallel.
var passwords = map[string]string{}

func TestMain(m *testing.M) {
	for user, v := range users {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			panic(err)
		}
		passwords[user] = hex.EncodeToString(b)
		if err := os.Setenv(v, passwords[user]); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// secured is a nats-server with Maria's users: started from
// infra/nats/nats-server.conf, or the embedded server (embedded_test.go).
type secured struct {
	clientURL string
	passwords map[string]string
	// login is how user reaches srv: a password in the URL (accounts.conf)
	// or its generated identity file (embedded server).
	login func(user string) config.Config
}

func startSecured(t *testing.T) *secured {
	t.Helper()
	opts, err := server.ProcessConfigFile(repoFile("infra", "nats", "nats-server.conf"))
	if err != nil {
		t.Fatalf("infra/nats/nats-server.conf: %v", err)
	}
	if !opts.JetStream {
		t.Fatal("nats-server.conf does not enable JetStream")
	}
	opts.StoreDir = t.TempDir()
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.HTTPPort = 0
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		t.Fatal("secured nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	s := &secured{clientURL: srv.ClientURL(), passwords: passwords}
	s.login = func(user string) config.Config { return config.Config{NATSURL: s.url(user)} }
	return s
}

func (s *secured) url(user string) string {
	return strings.Replace(s.clientURL, "nats://", "nats://"+user+":"+s.passwords[user]+"@", 1)
}

// identity is one service's connection: a bus plus every async error the
// server sent it (permission denials arrive only there).
type identity struct {
	t    *testing.T
	name string
	*bus.Bus
	mu   sync.Mutex
	errs []error
}

func (s *secured) connect(t *testing.T, user string) *identity {
	t.Helper()
	id := &identity{t: t, name: user}
	cfg := s.login(user)
	cfg.ServiceName, cfg.Replicas = "maria-"+user, 1
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, cfg, telemetry.NewLogger(io.Discard, "error", user),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			id.mu.Lock()
			id.errs = append(id.errs, err)
			id.mu.Unlock()
		}))
	if err != nil {
		t.Fatalf("%s cannot connect with its own credentials: %v", user, err)
	}
	t.Cleanup(b.Close)
	id.Bus = b
	return id
}

func (id *identity) violations() []string {
	id.mu.Lock()
	defer id.mu.Unlock()
	var out []string
	for _, e := range id.errs {
		if errors.Is(e, nats.ErrPermissionViolation) || strings.Contains(e.Error(), "Permissions Violation") {
			out = append(out, e.Error())
		}
	}
	return out
}

// denied waits for the server's permissions violation naming op and subject.
func (id *identity) denied(op, subject string) {
	id.t.Helper()
	want := fmt.Sprintf("Permissions Violation for %s to %q", op, subject)
	bustest.Eventually(id.t, 5*time.Second, func() bool {
		for _, v := range id.violations() {
			if strings.Contains(v, want) {
				return true
			}
		}
		return false
	}, "%s: expected %s; got %v", id.name, want, id.violations())
}

// noViolations asserts the identity's legitimate work raised no denial.
func (id *identity) noViolations() {
	id.t.Helper()
	_ = id.Conn().Flush()
	if v := id.violations(); len(v) > 0 {
		id.t.Fatalf("%s was denied during its own work: %v", id.name, v)
	}
}

// publishDenied publishes on core NATS (what a compromised service could try).
func (id *identity) publishDenied(subject string) {
	id.t.Helper()
	if err := id.Conn().Publish(subject, []byte("x")); err != nil {
		id.t.Fatal(err)
	}
	_ = id.Conn().Flush()
	id.denied("Publish", subject)
}

func (id *identity) subscribeDenied(subject string) {
	id.t.Helper()
	sub, err := id.Conn().SubscribeSync(subject)
	if err != nil {
		id.t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	_ = id.Conn().Flush()
	id.denied("Subscription", subject)
}

// jsDenied runs a JetStream call that must fail and be reported as denied.
func (id *identity) jsDenied(subject string, call func(ctx context.Context) error) {
	id.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := call(ctx); err == nil {
		id.t.Fatalf("%s: call on %s succeeded, want a denial", id.name, subject)
	}
	id.denied("Publish", subject)
}

func envelope(t *testing.T, id string) *schemas.Envelope {
	t.Helper()
	env, err := schemas.New(id, schemas.TypeSlackMessage, "security-test", schemas.SlackMessage{TS: "1.0", Text: "thanks Maria"})
	if err != nil {
		t.Fatal(err)
	}
	env.Team, env.Channel = "T1", "C1"
	return env
}

// declare has the operator declare the streams, as a deployment does before
// the services start.
func declare(t *testing.T, s *secured) *identity {
	t.Helper()
	op := s.connect(t, "operator")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := op.EnsureStreams(ctx); err != nil {
		t.Fatalf("operator cannot declare streams: %v", err)
	}
	return op
}

// runProcessor runs a processor under an identity until the test ends.
func runProcessor(t *testing.T, id *identity, p bus.Processor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, id.Bus, p) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: processor %s: %v", id.name, p.Name, err)
		}
	})
}

func consumerAcked(t *testing.T, op *identity, stream, durable string, n uint64) {
	t.Helper()
	bustest.Eventually(t, 10*time.Second, func() bool {
		c, err := op.JetStream().Consumer(context.Background(), stream, durable)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.AckFloor.Stream >= n && info.NumAckPending == 0
	}, "%s/%s acked %d", stream, durable, n)
}

func TestConfigRejectsMissingPasswords(t *testing.T) {
	// An unset variable must fail the parse (fail closed), never yield an
	// empty password.
	unsetEnv(t, "EGRESS_PASSWORD")
	if _, err := server.ProcessConfigFile(repoFile("infra", "nats", "nats-server.conf")); err == nil || !strings.Contains(err.Error(), "EGRESS_PASSWORD") {
		t.Fatalf("config with EGRESS_PASSWORD unset: err = %v, want a parse error naming it", err)
	}
}

func TestWrongPasswordIsRejected(t *testing.T) {
	t.Parallel()
	s := startSecured(t)
	url := strings.Replace(s.clientURL, "nats://", "nats://ingress:"+s.passwords["egress"]+"@", 1)
	nc, err := nats.Connect(url, nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
		t.Fatal("ingress connected with egress' password")
	}
	if _, err := nats.Connect(s.clientURL, nats.MaxReconnects(0)); err == nil {
		t.Fatal("anonymous connection accepted")
	}
}

func TestIngressPublishesInboundOnly(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		in := s.connect(t, "ingress")
		ctx := context.Background()

		ack, err := in.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), envelope(t, "Ev-ingress-1"))
		if err != nil || ack.Stream != schemas.StreamIn {
			t.Fatalf("ingress publish: %+v %v", ack, err)
		}
		if err := in.Ready(ctx); err != nil {
			t.Fatalf("ingress /readyz check: %v", err)
		}
		dl := bus.DeadLetter{Stream: schemas.StreamIn, Consumer: "ingress-invalid", Subject: "maria.in.invalid._._", Sequence: 1,
			Deliveries: 1, Reason: "test", Header: nats.Header{}, Data: []byte("{}")}
		if err := in.PublishDeadLetter(ctx, dl); err != nil {
			t.Fatalf("ingress dead letter: %v", err)
		}
		in.noViolations()

		in.publishDenied("maria.out.T1.C1")
		in.publishDenied("maria.erp.command.res.partner")
		in.publishDenied("maria.audit.confirm")
		in.publishDenied("maria.dlq.MARIA_OUT.egress")
		in.subscribeDenied("maria.in.>")
		in.subscribeDenied("maria.erp.query")
		in.jsDenied("$JS.API.CONSUMER.CREATE.MARIA_IN.ai", func(ctx context.Context) error {
			_, err := in.JetStream().CreateOrUpdateConsumer(ctx, schemas.StreamIn, jetstream.ConsumerConfig{Durable: "ai", AckPolicy: jetstream.AckExplicitPolicy})
			return err
		})
		in.jsDenied("$JS.API.STREAM.DELETE.MARIA_IN", func(ctx context.Context) error { return in.JetStream().DeleteStream(ctx, schemas.StreamIn) })
		in.jsDenied("$JS.API.STREAM.UPDATE.MARIA_AUDIT", func(ctx context.Context) error {
			_, err := in.JetStream().UpdateStream(ctx, jetstream.StreamConfig{Name: schemas.StreamAudit, Subjects: []string{schemas.SubjectAuditAll}, MaxAge: time.Second})
			return err
		})
		// STREAM.INFO is allowed (readiness), reading another stage's messages is not.
		outStream, err := in.JetStream().Stream(ctx, schemas.StreamOut)
		if err != nil {
			t.Fatalf("ingress stream info: %v", err)
		}
		in.jsDenied("$JS.API.STREAM.MSG.GET.MARIA_OUT", func(ctx context.Context) error {
			_, err := outStream.GetMsg(ctx, 1)
			return err
		})
		_ = op
	})
}

func TestEgressConsumesItsDurableAndPublishesDelivered(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		eg := s.connect(t, "egress")
		ctx := context.Background()

		idem, err := eg.Idempotency(ctx, "maria_egress", time.Hour, time.Minute)
		if err != nil {
			t.Fatalf("egress idempotency bucket: %v %v", err, eg.violations())
		}
		refs, err := eg.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "maria_egress_refs"})
		if err != nil {
			t.Fatalf("egress refs bucket: %v", err)
		}
		spec, _ := schemas.ConsumerByName("egress")
		runProcessor(t, eg, bus.FromSpec(spec, func(ctx context.Context, m *bus.Msg) error {
			if _, _, err := idem.Begin(ctx, m.Env.ID); err != nil {
				return err
			}
			if _, err := refs.Put(ctx, "ref-"+m.Env.ID, []byte("1700.1")); err != nil {
				return err
			}
			if _, err := refs.Get(ctx, "ref-"+m.Env.ID); err != nil {
				return err
			}
			if err := idem.Finish(ctx, m.Env.ID, map[string]string{"ts": "1700.1"}); err != nil {
				return err
			}
			_, err := m.Publish(ctx, schemas.DeliveredSubject(m.Env.Team, m.Env.Channel), "delivered", schemas.TypeDelivered, schemas.Delivered{TS: "1700.1"})
			return err
		}))
		cmd, _ := schemas.New("out-1", schemas.TypeOutPost, "ai", schemas.OutPost{Text: "hello"})
		cmd.Team, cmd.Channel = "T1", "C1"
		if _, err := op.Publish(ctx, schemas.OutSubject("T1", "C1"), cmd); err != nil {
			t.Fatal(err)
		}
		consumerAcked(t, op, schemas.StreamOut, "egress", 1)
		bustest.Eventually(t, 5*time.Second, func() bool {
			st, err := op.JetStream().Stream(ctx, schemas.StreamDelivered)
			if err != nil {
				return false
			}
			info, err := st.Info(ctx)
			return err == nil && info.State.Msgs == 1
		}, "a delivered record")
		eg.noViolations()

		eg.publishDenied("maria.in.message.T1.C1")
		eg.publishDenied("maria.erp.command.sale.order")
		eg.subscribeDenied("maria.out.>")
		eg.publishDenied("$JS.API.CONSUMER.MSG.NEXT.MARIA_IN.ai") // cannot pull the AI's messages
		eg.publishDenied("$JS.ACK.MARIA_IN.ai.1.1.1.1.1.0")       // nor ack them away
		eg.jsDenied("$JS.API.STREAM.INFO.KV_maria_memory", func(ctx context.Context) error {
			_, err := eg.JetStream().KeyValue(ctx, "maria_memory")
			return err
		})
	})
}

func TestAIProposesAndAsksERP(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		erp := s.connect(t, "erp")
		ai := s.connect(t, "ai")
		ctx := context.Background()

		// erp serves maria.erp.query as a nats micro service.
		svc, err := micro.AddService(erp.Conn(), micro.Config{Name: "maria-erp", Version: "1.0.0", QueueGroup: "maria-erp"})
		if err != nil {
			t.Fatalf("erp micro service: %v", err)
		}
		t.Cleanup(func() { _ = svc.Stop() })
		if err := svc.AddEndpoint("query", micro.HandlerFunc(func(r micro.Request) { _ = r.Respond([]byte(`{"ok":true}`)) }),
			micro.WithEndpointSubject(schemas.SubjectERPQuery)); err != nil {
			t.Fatal(err)
		}
		_ = erp.Conn().Flush()

		for _, bucket := range []string{"maria_ai_turns", "maria_proposals", "maria_memory", "maria_ai_budget"} {
			kv, err := ai.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1})
			if err != nil {
				t.Fatalf("ai bucket %s: %v", bucket, err)
			}
			if _, err := kv.Create(ctx, "k", []byte("v")); err != nil {
				t.Fatalf("ai bucket %s create: %v", bucket, err)
			}
			if _, err := kv.Get(ctx, "k"); err != nil {
				t.Fatalf("ai bucket %s get: %v", bucket, err)
			}
			w, err := kv.WatchAll(ctx)
			if err != nil {
				t.Fatalf("ai bucket %s watch: %v", bucket, err)
			}
			select {
			case e := <-w.Updates():
				if e == nil || e.Key() != "k" {
					t.Fatalf("ai bucket %s watch got %v", bucket, e)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("ai bucket %s watch got nothing", bucket)
			}
			_ = w.Stop()
		}

		spec, _ := schemas.ConsumerByName("ai")
		runProcessor(t, ai, bus.FromSpec(spec, func(ctx context.Context, m *bus.Msg) error {
			rep, err := m.Bus().Conn().RequestWithContext(ctx, schemas.SubjectERPQuery, []byte(`{"method":"search_read"}`))
			if err != nil {
				return fmt.Errorf("erp query: %w", err)
			}
			if string(rep.Data) != `{"ok":true}` {
				return bus.Permanent(fmt.Errorf("erp reply %s", rep.Data))
			}
			if _, err := m.Publish(ctx, schemas.OutSubject(m.Env.Team, m.Env.Channel), "answer", schemas.TypeOutPost, schemas.OutPost{Text: "42"}); err != nil {
				return err
			}
			if _, err := m.Publish(ctx, schemas.ERPCommandSubject("crm.lead"), "write", schemas.TypeERPCommand, schemas.ERPCommand{Op: "create", Model: "crm.lead", Values: map[string]any{"name": "Acme"}, ConfirmedBy: "U1"}); err != nil {
				return err
			}
			_, err = m.Publish(ctx, schemas.AuditSubject("confirm"), "audit", schemas.TypeAudit, schemas.Audit{Action: "confirm", Actor: "U1", Model: "crm.lead", Op: "create"})
			return err
		}))
		runProcessor(t, ai, bus.Processor{Name: "ai-results", Stream: schemas.StreamERP, Subjects: []string{schemas.SubjectERPResultAll},
			Handle: func(context.Context, *bus.Msg) error { return nil }})

		// Every erp replica hears the results (its read cache forgets the
		// model written), as erp.Service.WatchResults does.
		results := make(chan struct{}, 4)
		watch, err := erp.Conn().Subscribe(schemas.SubjectERPResultAll, func(*nats.Msg) { results <- struct{}{} })
		if err != nil {
			t.Fatalf("erp watches results: %v", err)
		}
		t.Cleanup(func() { _ = watch.Unsubscribe() })
		_ = erp.Conn().Flush()

		// erp consumes the command and publishes the result and an audit record.
		erpSpec, _ := schemas.ConsumerByName("erp")
		runProcessor(t, erp, bus.FromSpec(erpSpec, func(ctx context.Context, m *bus.Msg) error {
			if _, err := erp.Idempotency(ctx, "maria_erp", time.Hour, time.Minute); err != nil {
				return err
			}
			if _, err := m.Publish(ctx, schemas.ERPResultSubject("crm.lead"), "result", schemas.TypeERPResult, schemas.ERPResult{CommandID: m.Env.ID, Op: "create", Model: "crm.lead", OK: true}); err != nil {
				return err
			}
			_, err := m.Publish(ctx, schemas.AuditSubject("erp_write"), "audit", schemas.TypeAudit, schemas.Audit{Action: "erp_write", Actor: "U1", Model: "crm.lead", Op: "create", Outcome: "ok"})
			return err
		}))

		if _, err := op.Publish(ctx, schemas.InSubject(schemas.KindMention, "T1", "C1"), envelope(t, "Ev-ai-1")); err != nil {
			t.Fatal(err)
		}
		consumerAcked(t, op, schemas.StreamIn, "ai", 1)
		consumerAcked(t, op, schemas.StreamERP, "erp", 1)
		consumerAcked(t, op, schemas.StreamERP, "ai-results", 2)
		st, err := op.JetStream().Stream(ctx, schemas.StreamAudit)
		if err != nil {
			t.Fatal(err)
		}
		if info, err := st.Info(ctx); err != nil || info.State.Msgs != 2 {
			t.Fatalf("audit stream: %+v %v, want the click and the write", info, err)
		}
		select {
		case <-results:
		case <-time.After(5 * time.Second):
			t.Fatal("erp's result watch heard nothing")
		}
		ai.noViolations()
		erp.noViolations()

		ai.publishDenied("maria.erp.result.crm.lead")
		ai.publishDenied("maria.delivered.T1.C1")
		ai.publishDenied("maria.in.message.T1.C1")
		ai.subscribeDenied("maria.erp.query") // cannot impersonate the ERP service
		ai.jsDenied("$JS.API.CONSUMER.CREATE.MARIA_OUT.egress", func(ctx context.Context) error {
			_, err := ai.JetStream().CreateOrUpdateConsumer(ctx, schemas.StreamOut, jetstream.ConsumerConfig{Durable: "egress", AckPolicy: jetstream.AckExplicitPolicy})
			return err
		})
		erp.publishDenied("maria.out.T1.C1")
		erp.publishDenied("maria.erp.command.crm.lead") // only the click (ai) issues writes
		erp.subscribeDenied("maria.in.>")
		erp.subscribeDenied("maria.history.query")
	})
}

func TestStorageOwnsItsBuckets(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		st := s.connect(t, "storage")
		ctx := context.Background()

		for _, b := range []string{"maria_images", "maria_docs"} {
			obs, err := st.JetStream().CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: b})
			if err != nil {
				t.Fatalf("storage object store %s: %v", b, err)
			}
			if _, err := obs.PutBytes(ctx, "T1/F1/a.png", []byte("png bytes")); err != nil {
				t.Fatalf("put %s: %v", b, err)
			}
			got, err := obs.GetBytes(ctx, "T1/F1/a.png")
			if err != nil || string(got) != "png bytes" {
				t.Fatalf("get %s: %q %v", b, got, err)
			}
		}
		for _, b := range []string{"maria_records", "maria_storage_claims"} {
			kv, err := st.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b})
			if err != nil {
				t.Fatalf("storage kv %s: %v", b, err)
			}
			if _, err := kv.Put(ctx, "file.F1", []byte("{}")); err != nil {
				t.Fatalf("kv %s put: %v", b, err)
			}
			keys, err := kv.ListKeys(ctx)
			if err != nil {
				t.Fatalf("kv %s keys: %v", b, err)
			}
			n := 0
			for range keys.Keys() {
				n++
			}
			if n != 1 {
				t.Fatalf("kv %s: %d keys", b, n)
			}
		}
		svc, err := micro.AddService(st.Conn(), micro.Config{Name: "maria-history", Version: "1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = svc.Stop() })
		if err := svc.AddEndpoint("history", micro.HandlerFunc(func(r micro.Request) { _ = r.Respond([]byte(`[]`)) }),
			micro.WithEndpointSubject(schemas.SubjectHistoryQuery)); err != nil {
			t.Fatal(err)
		}
		_ = st.Conn().Flush()
		if err := svc.AddEndpoint("files", micro.HandlerFunc(func(r micro.Request) { _ = r.Respond([]byte(`{}`)) }),
			micro.WithEndpointSubject(schemas.SubjectFileRead)); err != nil {
			t.Fatal(err)
		}
		_ = st.Conn().Flush()
		ai := s.connect(t, "ai")
		if rep, err := ai.Conn().Request(schemas.SubjectHistoryQuery, []byte(`{}`), 5*time.Second); err != nil || string(rep.Data) != "[]" {
			t.Fatalf("ai → history query: %v %v", rep, err)
		}
		if rep, err := ai.Conn().Request(schemas.SubjectFileRead, []byte(`{}`), 5*time.Second); err != nil || string(rep.Data) != "{}" {
			t.Fatalf("ai → files.read: %v %v", rep, err)
		}
		// Multi-workspace mode: ingress stores installations, egress and
		// storage read each workspace's token and store rotated ones.
		for _, user := range []string{"ingress", "egress", "storage"} {
			c := s.connect(t, user)
			kv, err := c.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: schemas.InstallsBucket})
			if err != nil {
				t.Fatalf("%s: installs bucket: %v", user, err)
			}
			if _, err := kv.Put(ctx, "team.T1", []byte("sealed")); err != nil {
				t.Fatalf("%s: put installation: %v", user, err)
			}
			if e, err := kv.Get(ctx, "team.T1"); err != nil || string(e.Value()) != "sealed" {
				t.Fatalf("%s: get installation: %v %v", user, e, err)
			}
			c.noViolations()
		}

		for _, name := range []string{"storage-files", "storage-history-in", "storage-history-out"} {
			spec, ok := schemas.ConsumerByName(name)
			if !ok {
				t.Fatalf("no consumer spec %s", name)
			}
			runProcessor(t, st, bus.FromSpec(spec, func(ctx context.Context, m *bus.Msg) error {
				if m.Subject == schemas.InSubject(schemas.KindFile, "T1", "C1") {
					_, err := m.Publish(ctx, schemas.StoredFileSubject("T1", "C1"), "stored", schemas.TypeStoredFile, schemas.StoredFile{FileID: "F1", Backend: "nats", Bucket: "maria_images", Key: "k"})
					return err
				}
				return nil
			}))
		}
		env, _ := schemas.New("Ev-file-1", schemas.TypeSlackFile, "ingress", schemas.SlackFile{})
		env.Team, env.Channel = "T1", "C1"
		if _, err := op.Publish(ctx, schemas.InSubject(schemas.KindFile, "T1", "C1"), env); err != nil {
			t.Fatal(err)
		}
		consumerAcked(t, op, schemas.StreamIn, "storage-files", 1)
		st.noViolations()
		ai.noViolations()

		ai.jsDenied("$JS.API.STREAM.INFO.KV_maria_installs", func(ctx context.Context) error {
			_, err := ai.JetStream().KeyValue(ctx, schemas.InstallsBucket)
			return err
		})
		st.publishDenied("maria.out.T1.C1")
		st.publishDenied("maria.in.file.T1.C1")
		st.subscribeDenied("maria.erp.query")
		st.jsDenied("$JS.API.STREAM.INFO.KV_maria_proposals", func(ctx context.Context) error {
			_, err := st.JetStream().KeyValue(ctx, "maria_proposals")
			return err
		})
		st.jsDenied("$JS.API.STREAM.INFO.OBJ_other", func(ctx context.Context) error {
			_, err := st.JetStream().ObjectStore(ctx, "other")
			return err
		})
	})
}

func TestExampleProcessorTemplate(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		ex := s.connect(t, "example")
		runProcessor(t, ex, bus.Processor{Name: "example-thanks", Stream: schemas.StreamIn,
			Subjects: []string{schemas.InKindFilter(schemas.KindMessage), schemas.InKindFilter(schemas.KindMention)},
			Handle: func(ctx context.Context, m *bus.Msg) error {
				_, err := m.Publish(ctx, schemas.OutSubject("T1", "C1"), "thanks", schemas.TypeOutReact, schemas.OutReact{TS: "1.0", Name: "heart"})
				return err
			}})
		if _, err := op.Publish(context.Background(), schemas.InSubject(schemas.KindMessage, "T1", "C1"), envelope(t, "Ev-ex-1")); err != nil {
			t.Fatal(err)
		}
		consumerAcked(t, op, schemas.StreamIn, "example-thanks", 1)
		ex.noViolations()
		ex.publishDenied("maria.erp.command.crm.lead")
		ex.jsDenied("$JS.API.CONSUMER.CREATE.MARIA_IN.ai", func(ctx context.Context) error {
			_, err := ex.JetStream().CreateOrUpdateConsumer(ctx, schemas.StreamIn, jetstream.ConsumerConfig{Durable: "ai", AckPolicy: jetstream.AckExplicitPolicy})
			return err
		})
	})
}

// The operator may administer everything (replay, DLQ redrive, streams).
func TestOperatorAdministers(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		ctx := context.Background()
		if _, err := op.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "SANDBOX", Subjects: []string{"sandbox.>"}}); err != nil {
			t.Fatal(err)
		}
		if err := op.JetStream().DeleteStream(ctx, "SANDBOX"); err != nil {
			t.Fatal(err)
		}
		op.noViolations()
	})
}

// unsetEnv removes a variable for the test (t.Setenv first, so it is restored).
func unsetEnv(t *testing.T, k string) {
	t.Setenv(k, "")
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}
