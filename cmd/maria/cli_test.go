package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/spf13/cobra"
)

// run executes a maria command line in-process and returns its exit status,
// stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(args, &cli{in: strings.NewReader(""), out: &out, errOut: &errOut})
	return code, out.String(), errOut.String()
}

// commandPaths lists every command of the tree below the root, as argument
// lists ("dlq", "redrive").
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	walk(newRoot(&cli{}), func(c *cobra.Command) {
		if c.HasParent() {
			paths = append(paths, strings.Fields(strings.TrimPrefix(c.CommandPath(), "maria ")))
		}
	})
	if len(paths) < 14 {
		t.Fatalf("command tree has %d commands: %v", len(paths), paths)
	}
	return paths
}

func TestEveryCommandHelpExitsZero(t *testing.T) {
	for _, path := range commandPaths(t) {
		for _, args := range [][]string{append(append([]string{}, path...), "--help"), append([]string{"help"}, path...), append(append([]string{}, path...), "-h")} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errOut := run(t, args...)
				if code != exitOK || !strings.Contains(out, "Usage:") || errOut != "" {
					t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
				}
			})
		}
	}
	for _, want := range []string{"run", "demo", "chat", "streams", "tail", "trace", "dlq", "replay", "healthcheck", "version", "completion"} {
		if _, out, _ := run(t, "--help"); !strings.Contains(out, "\n  "+want+" ") {
			t.Errorf("maria --help does not list %s:\n%s", want, out)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := run(t, args...)
		if code != exitOK || out != "maria "+version+"\n" {
			t.Errorf("maria %v: exit %d, %q", args, code, out)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, errOut := run(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, "maria") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %s", shell, code, len(out), errOut)
		}
	}
	// Dynamic completion: services for run, streams for --stream.
	if _, out, _ := run(t, "__complete", "run", ""); !strings.Contains(out, "ingress\n") {
		t.Errorf("run completion: %q", out)
	}
	if _, out, _ := run(t, "__complete", "dlq", "list", "--stream", ""); !strings.Contains(out, "MARIA_DLQ\n") {
		t.Errorf("--stream completion: %q", out)
	}
}

// A wrong command line: exit 2, one line naming the problem, one line
// saying where help is.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `maria: unknown command "bogus"`},
		{[]string{"strems"}, `(did you mean streams?)`},
		{[]string{"streams", "--bogus"}, "maria streams: unknown flag: --bogus"},
		{[]string{"dlq", "bogus"}, `maria dlq: unknown command "bogus"`},
		{[]string{"dlq", "list", "--stream"}, "flag needs an argument"},
		{[]string{"dlq", "show"}, "maria dlq show: want one sequence number, got 0"},
		{[]string{"dlq", "redrive", "12", "x", "--yes"}, `"x" is not a sequence number`},
		{[]string{"trace"}, "want exactly one correlation id"},
		{[]string{"trace", "a", "--since", "yesterday"}, `time "yesterday"`},
		{[]string{"tail", "a", "b"}, "want at most one subject"},
		{[]string{"replay", "--stream", "MARIA_IN"}, "give exactly one of --since or --from-seq"},
		{[]string{"replay", "--from-seq", "1"}, "--stream is required"},
		{[]string{"replay", "--stream", "MARIA_IN", "--from-seq", "1", "--to", "prod"}, `--to "prod"`},
		{[]string{"streams", "extra"}, "unexpected arguments"},
		{[]string{"version", "--bogus"}, "unknown flag"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, c.args...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != exitUsage || len(lines) != 2 || !strings.Contains(lines[0], c.want) || !strings.HasPrefix(lines[1], "Run 'maria") || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, out, errOut, c.want)
			}
		})
	}
	// No command at all: the command list, then the error.
	if code, _, errOut := run(t); code != exitUsage || !strings.Contains(errOut, "Available Commands:") || !strings.Contains(errOut, "missing command") {
		t.Fatalf("maria alone: exit %d\n%s", code, errOut)
	}
}

// Go-flag spellings that worked before cobra still do.
func TestSingleDashLongFlags(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	if code, _, errOut := run(t, "healthcheck", "-addr", addr, "-path", "/healthz"); code != exitOK {
		t.Fatalf("healthcheck -addr -path: exit %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "healthcheck", "--addr="+addr); code != exitFail || !strings.Contains(errOut, "status 404") {
		t.Fatalf("healthcheck of /readyz: exit %d %s", code, errOut)
	}
	root := newRoot(&cli{})
	got := strings.Join(singleDashCompat(root, []string{"dlq", "redrive", "12", "-yes", "-h", "-stream=MARIA_IN", "-x", "--", "-json"}), " ")
	if want := "dlq redrive 12 --yes -h --stream=MARIA_IN -x -- -json"; got != want {
		t.Fatalf("singleDashCompat = %q, want %q", got, want)
	}
}

// Operator commands with nothing running (no NATS_URL, nothing on
// MARIA_NATS_LISTEN, no data dir) fail in one line and create no file.
func TestOperatorCommandsAgainstNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("MARIA_NATS_LISTEN", free)
	t.Setenv("MARIA_DATA_DIR", filepath.Join(dir, "data"))
	for _, args := range [][]string{
		{"streams"}, {"streams", "--declare"}, {"tail"}, {"trace", "Ev-1"},
		{"dlq", "list"}, {"dlq", "ls", "--json"}, {"dlq", "show", "1"}, {"dlq", "redrive", "--all", "--yes"}, {"dlq", "purge", "1", "--yes"},
		{"replay", "--stream", "MARIA_IN", "--from-seq", "1", "--dry-run"},
		{"streams", "--all"}, {"tail", "maria.erp.query"}, {"trace", "Ev-1", "--json"},
		{"replay", "--stream", "MARIA_IN", "--from-seq", "1", "--yes"}, {"replay", "--stream", "MARIA_IN", "--since", "1h", "--simulate", "--yes"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := run(t, args...)
			want := "nothing is running at " + free + " and no data dir at " + filepath.Join(dir, "data")
			if code != exitFail || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) || out != "" {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and one line with %q", code, out, errOut, want)
			}
		})
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("operator commands created %v (%v)", entries, err)
	}
}

// A server without Maria's streams: dlq says so in one line, not with
// JetStream's "API error 404".
func TestDLQWithoutStreamSaysSo(t *testing.T) {
	live := bustest.New(t, bustest.Options{NoStreams: true})
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("MARIA_NATS_LISTEN", strings.TrimPrefix(live.ClientURL(), "nats://"))
	t.Setenv("MARIA_DATA_DIR", live.Config().DataDir)
	for _, args := range [][]string{{"dlq", "list"}, {"dlq", "show", "3"}, {"dlq", "purge", "--all", "--yes"}, {"dlq", "redrive", "4", "--yes"}} {
		code, out, errOut := run(t, args...)
		if code != exitFail || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "the MARIA_DLQ stream does not exist") ||
			strings.Contains(errOut, "API error") || out != "" {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
	}
	code, _, errOut := run(t, "replay", "--stream", "MARIA_IN", "--from-seq", "1", "--dry-run")
	if code != exitFail || !strings.Contains(errOut, "stream MARIA_IN does not exist") {
		t.Errorf("replay of a missing stream: exit %d %s", code, errOut)
	}
}

// Against a running maria (attached through MARIA_NATS_LISTEN and its data
// dir's operator identity) the commands print what is there and exit 0.
func TestOperatorCommandsAgainstRunningMaria(t *testing.T) {
	live := bustest.New(t)
	t.Setenv("NATS_URL", "")
	t.Setenv("NATS_CREDS", "")
	t.Setenv("MARIA_NATS_LISTEN", strings.TrimPrefix(live.ClientURL(), "nats://"))
	t.Setenv("MARIA_DATA_DIR", live.Config().DataDir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"streams"}, "MARIA_DLQ"},
		{[]string{"streams", "--json"}, `"name": "MARIA_IN"`},
		{[]string{"dlq", "ls"}, "SEQ"},
		{[]string{"dlq", "redrive", "--all", "--yes"}, "no dead letters"},
		{[]string{"dlq", "purge", "--consumer", "ai", "-yes"}, "no dead letters"},
		{[]string{"trace", "Ev-none", "--json"}, "null"},
	} {
		code, out, errOut := run(t, c.args...)
		if code != exitOK || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, want %q in stdout\nstdout: %s\nstderr: %s", c.args, code, c.want, out, errOut)
		}
	}
	if code, _, errOut := run(t, "trace", "Ev-none"); code != exitFail || !strings.HasPrefix(errOut, "maria trace: no message with correlation id Ev-none since ") {
		t.Errorf("trace of nothing: exit %d %s", code, errOut)
	}
}
