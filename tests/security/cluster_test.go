package security

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestClusterConfigR3 starts three nodes from infra/nats/cluster.conf (only
// ports, routes and store directories changed), has the operator declare
// Maria's streams with 3 replicas, and checks the per-service users hold on
// every node: ingress publishes through one node, egress pulls through another.
func TestClusterConfigR3(t *testing.T) {
	routePW := "route-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("ROUTE_PASSWORD", routePW)
	ports := []int{freePort(t), freePort(t), freePort(t)}
	for i, p := range ports {
		t.Setenv(fmt.Sprintf("NATS_ROUTE_%d", i), fmt.Sprintf("nats-route://route:%s@127.0.0.1:%d", routePW, p))
	}
	var nodes []*server.Server
	for i := range ports {
		t.Setenv("NATS_SERVER_NAME", fmt.Sprintf("maria-nats-%d", i))
		opts, err := server.ProcessConfigFile(repoFile("infra", "nats", "cluster.conf"))
		if err != nil {
			t.Fatalf("infra/nats/cluster.conf: %v", err)
		}
		if opts.Cluster.Name != "maria" || len(opts.Routes) != 3 || !opts.JetStream {
			t.Fatalf("cluster.conf: cluster %q, %d routes, jetstream %v", opts.Cluster.Name, len(opts.Routes), opts.JetStream)
		}
		opts.StoreDir = t.TempDir()
		opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", ports[i]
		opts.HTTPPort = 0
		opts.NoLog, opts.NoSigs = true, true
		srv, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go srv.Start()
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		nodes = append(nodes, srv)
	}
	for _, n := range nodes {
		if !n.ReadyForConnections(20 * time.Second) {
			t.Fatal("cluster node not ready")
		}
	}
	bustest.Eventually(t, 30*time.Second, func() bool {
		for _, n := range nodes {
			if n.NumRoutes() < 2 || !n.JetStreamIsClustered() {
				return false
			}
		}
		return nodes[0].JetStreamIsCurrent()
	}, "3 routed nodes with a JetStream meta leader")

	url := func(user string, node int) string {
		return strings.Replace(nodes[node].ClientURL(), "nats://", "nats://"+user+":"+os.Getenv(users[user])+"@", 1)
	}
	connect := func(user string, node int) *bus.Bus {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := bus.Connect(ctx, config.Config{NATSURL: url(user, node), ServiceName: user, Replicas: 3}, bustest.Logger(t))
		if err != nil {
			t.Fatalf("%s on node %d: %v", user, node, err)
		}
		t.Cleanup(b.Close)
		return b
	}
	op := connect("operator", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	bustest.Eventually(t, 30*time.Second, func() bool { err = op.EnsureStreams(ctx); return err == nil }, "declare R3 streams: %v", err)
	st, err := op.JetStream().Stream(ctx, schemas.StreamIn)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Config.Replicas != 3 {
		t.Fatalf("MARIA_IN replicas: %+v %v", info, err)
	}

	in := connect("ingress", 1)
	env, _ := schemas.New("Ev-cluster-1", schemas.TypeSlackMessage, "ingress", schemas.SlackMessage{TS: "1.0", Text: "hi"})
	env.Team, env.Channel = "T1", "C1"
	if _, err := in.Publish(ctx, schemas.InSubject(schemas.KindMessage, "T1", "C1"), env); err != nil {
		t.Fatalf("ingress publish on node 1: %v", err)
	}
	ex := connect("example", 2)
	got := make(chan string, 1)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- bus.Run(runCtx, ex, bus.Processor{Name: "example-thanks", Stream: schemas.StreamIn,
			Subjects: []string{schemas.InKindFilter(schemas.KindMessage)},
			Handle: func(_ context.Context, m *bus.Msg) error {
				select {
				case got <- m.Env.ID:
				default:
				}
				return nil
			}})
	}()
	defer func() { stop(); <-done }()
	select {
	case id := <-got:
		if id != "Ev-cluster-1" {
			t.Fatalf("got %s", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("example processor on node 2 did not receive the event published on node 1")
	}
	// Permissions hold on every node.
	_, err = nats.Connect(nodes[2].ClientURL(), nats.MaxReconnects(0))
	if err == nil {
		t.Fatal("anonymous connection accepted by a cluster node")
	}
}
