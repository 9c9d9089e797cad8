package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// boltSetup is where Bolt-js runs from: its server script (in this
// module's bolt/) and the node_modules install.sh put under .tools/bolt.
type boltSetup struct {
	script, nodePath string
}

// findBolt locates node, the script and the installed Bolt-js; an error
// says what is missing (the Bolt-js rows are then skipped, not faked).
func findBolt(repo string) (boltSetup, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return boltSetup{}, errNoNode
	}
	s := boltSetup{script: filepath.Join(repo, "tests", "bench", "compare", "bolt", "server.js"),
		nodePath: filepath.Join(repo, ".tools", "bolt", "node_modules")}
	if _, err := os.Stat(filepath.Join(s.nodePath, "@slack", "bolt")); err != nil {
		return boltSetup{}, fmt.Errorf("bolt-js not installed under %s: run tests/bench/compare/bolt/install.sh (make bench-compare does)", s.nodePath)
	}
	return s, nil
}

// ingressBolt posts the events to a fresh Bolt-js HTTP receiver.
func ingressBolt(ctx context.Context, s boltSetup, events []signedEvent) (trial, error) {
	cmd := exec.CommandContext(ctx, "node", s.script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+s.nodePath, "PORT=0", "SLACK_SIGNING_SECRET="+signingSecret)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return trial{}, err
	}
	if err := cmd.Start(); err != nil {
		return trial{}, fmt.Errorf("start Bolt-js: %w", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				port <- p
			}
		}
	}()
	select {
	case p := <-port:
		// Bolt's CPU is node's: added to the load generator's, so the
		// column compares like with like.
		before, err := childCPU(cmd.Process.Pid)
		if err != nil {
			return trial{}, err
		}
		t, err := postAll(ctx, "http://127.0.0.1:"+p+"/slack/events", events, ingressConns)
		if err != nil {
			return trial{}, err
		}
		after, err := childCPU(cmd.Process.Pid)
		t.cpu += (after - before) / time.Duration(len(events))
		return t, err
	case <-time.After(30 * time.Second):
		return trial{}, fmt.Errorf("bolt-js did not start listening within 30s")
	}
}
