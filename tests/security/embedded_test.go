package security

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/bus/natsconn"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// eachServer runs a permission test against both places Maria's users
// live: a server started from infra/nats (passwords) and the embedded
// server of `maria run` (generated nkeys), so neither can drift.
func eachServer(t *testing.T, test func(t *testing.T, s *secured)) {
	t.Helper()
	for name, start := range map[string]func(*testing.T) *secured{"accounts.conf": startSecured, "embedded": startEmbedded} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, start(t))
		})
	}
}

// startEmbedded is `maria run` without NATS_URL: the all-in-one process
// (bus.Connect) owns the server, which listens on a loopback port where
// every user attaches with its identity file from the data dir.
func startEmbedded(t *testing.T) *secured {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, config.Config{DataDir: dir, EmbeddedListen: "127.0.0.1:0", Replicas: 1, ServiceName: "maria-all-in-one"}, bustest.Logger(t))
	if err != nil {
		t.Fatalf("embedded server: %v", err)
	}
	t.Cleanup(b.Close)
	if err := b.EnsureStreams(ctx); err != nil {
		t.Fatalf("the all-in-one process (operator) cannot declare streams: %v", err)
	}
	return &secured{clientURL: b.ClientURL(), login: func(user string) config.Config {
		return config.Config{NATSURL: b.ClientURL(), NATSCreds: natsconn.EmbeddedCreds(dir, user)}
	}}
}

func authRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: connected, want a refusal", what)
	}
	if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(err.Error(), "Authorization Violation") {
		t.Fatalf("%s: %v, want an authorization violation", what, err)
	}
}

func TestEmbeddedRefusesAnonymousAndWrongKeys(t *testing.T) {
	t.Parallel()
	s := startEmbedded(t)
	url := s.clientURL

	nc, err := nats.Connect(url, nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
	}
	authRefused(t, "anonymous", err)

	nc, err = nats.Connect(strings.Replace(url, "nats://", "nats://operator:operator@", 1), nats.MaxReconnects(0))
	if err == nil {
		nc.Close()
	}
	authRefused(t, "user/password", err)

	// A well-formed identity the server never issued.
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	stranger := filepath.Join(t.TempDir(), "stranger.nk")
	if err := os.WriteFile(stranger, append(seed, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := bus.Connect(ctx, config.Config{NATSURL: url, NATSCreds: stranger, ServiceName: "stranger"}, bustest.Logger(t))
	if err == nil {
		b.Close()
	}
	authRefused(t, "unknown nkey", err)

	// Every generated identity is accepted.
	for _, user := range natsconn.Users() {
		s.connect(t, user)
	}
}

func TestEmbeddedCredentialFilesArePrivateAndReused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startStop(t, dir, "first start")

	st, err := os.Stat(filepath.Join(dir, "nats"))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("credentials dir: %v %v, want mode 0700", st.Mode(), err)
	}
	before := map[string][]byte{}
	for _, user := range natsconn.Users() {
		path := natsconn.EmbeddedCreds(dir, user)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", path, st.Mode().Perm())
		}
		before[user], _ = os.ReadFile(path)
		if _, err := nkeys.ParseDecoratedUserNKey(before[user]); err != nil {
			t.Errorf("%s: not a user nkey seed: %v", path, err)
		}
	}
	if string(before["ingress"]) == string(before["egress"]) {
		t.Fatal("two users share an identity")
	}

	startStop(t, dir, "restart")
	for user, was := range before {
		if now, _ := os.ReadFile(natsconn.EmbeddedCreds(dir, user)); string(now) != string(was) {
			t.Errorf("%s: identity changed on restart (attached processes would be locked out)", user)
		}
	}
}

func TestEmbeddedRefusesExposedOrCorruptCreds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	startStop(t, dir, "first start")
	erp := natsconn.EmbeddedCreds(dir, "erp")
	restartFails := func(why, want string) {
		t.Helper()
		srv, err := natsconn.StartEmbedded(dir, "-")
		if err == nil {
			srv.Shutdown()
			t.Fatalf("%s: server started", why)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want an error saying %q", why, err, want)
		}
	}
	chmod := func(p string, m os.FileMode) {
		t.Helper()
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}

	chmod(erp, 0o640)
	restartFails("group-readable erp identity", "mode 0640")
	chmod(erp, 0o604)
	restartFails("world-readable erp identity", "mode 0604")
	chmod(erp, 0o600)

	chmod(filepath.Dir(erp), 0o755)
	restartFails("open credentials dir", "mode 0755")
	chmod(filepath.Dir(erp), 0o700)

	if err := os.WriteFile(erp, []byte("not a seed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	restartFails("corrupt erp identity", "corrupt")

	// Deleting the file is the documented way to a new identity.
	if err := os.Remove(erp); err != nil {
		t.Fatal(err)
	}
	startStop(t, dir, "after deleting the corrupt file")
}

// startStop starts the embedded server on dir (creating or checking its
// identities) and stops it.
func startStop(t *testing.T, dir, when string) {
	t.Helper()
	srv, err := natsconn.StartEmbedded(dir, "-")
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}

// A data dir from before authentication keeps its streams: the users live
// in the global account, where the anonymous server stored them.
func TestEmbeddedKeepsStreamsOfAnonymousDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old, err := server.NewServer(&server.Options{JetStream: true, StoreDir: filepath.Join(dir, "jetstream"), DontListen: true, NoLog: true, NoSigs: true,
		JetStreamMaxStore: 1 << 40}) // room for the stream's reservation whatever the free disk
	if err != nil {
		t.Fatal(err)
	}
	go old.Start()
	if !old.ReadyForConnections(10 * time.Second) {
		t.Fatal("old server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(old))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec, _ := schemas.StreamByName(schemas.StreamIn)
	if _, err := js.CreateStream(ctx, bus.StreamConfig(spec, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	old.Shutdown()
	old.WaitForShutdown()

	b, err := bus.Connect(ctx, config.Config{DataDir: dir, EmbeddedListen: "-", Replicas: 1, ServiceName: "upgraded"}, bustest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.JetStream().Stream(ctx, spec.Name)
	if err != nil {
		t.Fatalf("stream of the old data dir: %v", err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream of the old data dir: %+v %v, want its message", info, err)
	}
}

// erp reads the ai's proposals (to check a confirmed write against what was
// proposed) and the click on MARIA_IN, and can change neither.
func TestERPReadsProposalsAndClicks(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, s *secured) {
		op := declare(t, s)
		ai := s.connect(t, "ai")
		erp := s.connect(t, "erp")
		ctx := context.Background()

		kv, err := ai.JetStream().CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "maria_proposals", History: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "P1", []byte(`{"op":"create"}`)); err != nil {
			t.Fatal(err)
		}
		ro, err := erp.JetStream().KeyValue(ctx, "maria_proposals")
		if err != nil {
			t.Fatalf("erp binds maria_proposals: %v %v", err, erp.violations())
		}
		e, err := ro.Get(ctx, "P1")
		if err != nil || string(e.Value()) != `{"op":"create"}` {
			t.Fatalf("erp reads a proposal: %v %v", err, erp.violations())
		}
		if _, err := op.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), envelope(t, "Ev-click-1")); err != nil {
			t.Fatal(err)
		}
		in, err := erp.JetStream().Stream(ctx, schemas.StreamIn)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := in.GetMsg(ctx, 1); err != nil || m.Header.Get(jetstream.MsgIDHeader) != "Ev-click-1" {
			t.Fatalf("erp reads the click: %v %v", err, erp.violations())
		}
		erp.noViolations()

		erp.jsDenied("$KV.maria_proposals.P1", func(ctx context.Context) error {
			_, err := ro.Put(ctx, "P1", []byte(`{"op":"unlink"}`))
			return err
		})
		erp.jsDenied("$KV.maria_proposals.P2", func(ctx context.Context) error { return ro.Delete(ctx, "P2") })
		erp.jsDenied("$JS.API.STREAM.DELETE.KV_maria_proposals", func(ctx context.Context) error {
			return erp.JetStream().DeleteKeyValue(ctx, "maria_proposals")
		})
		out, err := erp.JetStream().Stream(ctx, schemas.StreamOut)
		if err != nil {
			t.Fatal(err)
		}
		erp.jsDenied("$JS.API.STREAM.MSG.GET.MARIA_OUT", func(ctx context.Context) error {
			_, err := out.GetMsg(ctx, 1)
			return err
		})
		if e, err := kv.Get(ctx, "P1"); err != nil || string(e.Value()) != `{"op":"create"}` {
			t.Fatalf("proposal after erp's attempts: %v", err)
		}
	})
}
