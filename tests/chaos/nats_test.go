package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsNode is one nats-server process, run from infra/nats's configuration
// with only its ports and store directory changed, so a restart finds its
// JetStream store again.
type natsNode struct {
	name       string
	clientPort int
	routePort  int
	proc       *proc
}

// natsServers is a single node or a 3-node cluster.
type natsServers struct {
	nodes []*natsNode
}

// freePort asks the kernel for an unused loopback port. Ports are fixed
// per run so a restarted server is found where it was.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// replaceOnce rewrites one line of a server configuration and fails when the
// line is gone: infra/nats changed shape and the suite must follow.
func replaceOnce(conf, file, old, repl string) (string, error) {
	if strings.Count(conf, old) != 1 {
		return "", fmt.Errorf("infra/nats/%s: expected exactly one %q", file, old)
	}
	return strings.Replace(conf, old, repl, 1), nil
}

// writeConfig copies infra/nats/<file> and accounts.conf into dir with the
// node's listeners on loopback, monitoring off and its own store.
func writeConfig(dir, file string, n *natsNode, store string) (string, error) {
	src := filepath.Join(repoRoot(), "infra", "nats")
	accounts, err := os.ReadFile(filepath.Join(src, "accounts.conf"))
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(filepath.Join(src, file))
	if err != nil {
		return "", err
	}
	conf := string(raw)
	edits := [][2]string{
		{"listen: 0.0.0.0:4222", fmt.Sprintf("listen: 127.0.0.1:%d", n.clientPort)},
		{`store_dir: "/data/jetstream"`, fmt.Sprintf("store_dir: %q", store)},
	}
	if file == "cluster.conf" {
		edits = append(edits, [2]string{"http: 0.0.0.0:8222", "# http: off in the chaos suite"},
			[2]string{"listen: 0.0.0.0:6222", fmt.Sprintf("listen: 127.0.0.1:%d", n.routePort)})
	} else {
		edits = append(edits, [2]string{"http: 127.0.0.1:8222", "# http: off in the chaos suite"})
	}
	for _, e := range edits {
		if conf, err = replaceOnce(conf, file, e[0], e[1]); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts.conf"), accounts, 0o600); err != nil {
		return "", err
	}
	path := filepath.Join(dir, file)
	return path, os.WriteFile(path, []byte(conf), 0o600)
}

// passwordEnv is the environment the configuration reads its passwords from.
func passwordEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for user, v := range natsUsers {
		env = append(env, v+"="+passwords[user])
	}
	return env
}

// startNATS starts one node (size 1, nats-server.conf) or a cluster of
// three (cluster.conf, routes between them) under dir.
func startNATS(ctx context.Context, bin binaries, dir string, size int) (*natsServers, error) {
	s := &natsServers{}
	for i := range size {
		n := &natsNode{name: fmt.Sprintf("maria-nats-%d", i)}
		var err error
		if n.clientPort, err = freePort(); err != nil {
			return nil, err
		}
		if size > 1 {
			if n.routePort, err = freePort(); err != nil {
				return nil, err
			}
		}
		s.nodes = append(s.nodes, n)
	}
	routePW := randomHex(12)
	for i, n := range s.nodes {
		file, env := "nats-server.conf", passwordEnv()
		if size > 1 {
			file = "cluster.conf"
			env = append(env, "NATS_SERVER_NAME="+n.name, "ROUTE_PASSWORD="+routePW)
			for j, m := range s.nodes {
				env = append(env, fmt.Sprintf("NATS_ROUTE_%d=nats-route://route:%s@127.0.0.1:%d", j, routePW, m.routePort))
			}
		} else {
			n.name = "maria-nats-1" // nats-server.conf's server_name
		}
		nodeDir := filepath.Join(dir, n.name)
		conf, err := writeConfig(nodeDir, file, n, filepath.Join(nodeDir, "jetstream"))
		if err != nil {
			return nil, err
		}
		n.proc = newProc(n.name, bin.NATSServer, filepath.Join(dir, fmt.Sprintf("nats-%d.log", i)), env, "-c", conf)
		if err := n.proc.start(); err != nil {
			return nil, err
		}
	}
	return s, s.waitJetStream(ctx, 60*time.Second)
}

// urls is the client URL list with user's password, every node.
func (s *natsServers) urls(user string) string {
	var out []string
	for _, n := range s.nodes {
		out = append(out, fmt.Sprintf("nats://%s:%s@127.0.0.1:%d", user, passwords[user], n.clientPort))
	}
	return strings.Join(out, ",")
}

// connect is a connection of user that keeps reconnecting through restarts.
func (s *natsServers) connect(user string) (*nats.Conn, error) {
	return nats.Connect(s.urls(user), nats.Name("maria-chaos-"+user), nats.MaxReconnects(-1),
		nats.ReconnectWait(200*time.Millisecond), nats.RetryOnFailedConnect(true), nats.Timeout(2*time.Second))
}

// waitJetStream waits until JetStream answers the operator on every node
// (in a cluster: a meta leader is elected).
func (s *natsServers) waitJetStream(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for _, n := range s.nodes {
		url := fmt.Sprintf("nats://operator:%s@127.0.0.1:%d", passwords["operator"], n.clientPort)
		for {
			if !n.proc.running() {
				return fmt.Errorf("%s exited:\n%s", n.name, n.proc.tail(20))
			}
			last = jetStreamAnswers(ctx, url)
			if last == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: JetStream not ready after %s: %w", n.name, limit, last)
			}
			if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

func jetStreamAnswers(ctx context.Context, url string) error {
	nc, err := nats.Connect(url, nats.MaxReconnects(0), nats.Timeout(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(cctx)
	return err
}

// restart starts a stopped node again on its ports and store.
func (s *natsServers) restart(ctx context.Context, n *natsNode) error {
	if err := n.proc.start(); err != nil {
		return err
	}
	return s.waitJetStream(ctx, 60*time.Second)
}

// node returns the node named name (a stream leader's server name).
func (s *natsServers) node(name string) *natsNode {
	for _, n := range s.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// stop kills every node (end of a scenario).
func (s *natsServers) stop() {
	for _, n := range s.nodes {
		_ = n.proc.term()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
