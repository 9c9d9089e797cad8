package config_test

import (
	"strings"
	"testing"

	"github.com/mariahq/maria/bus/config"
)

// Load reports every problem at once, each naming its variable.
func TestLoadCollectsEveryError(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{
		"NATS_CREDS":            "/nonexistent/x.creds",
		"MARIA_LOG_LEVEL":       "loud",
		"MARIA_STREAM_REPLICAS": "3", // with the embedded server
		"MARIA_NATS_LISTEN":     "nowhere",
		"MARIA_HTTP_ADDR":       "3000",
	})
	config.Load(env)
	err := env.Err()
	if err == nil {
		t.Fatal("no error for a broken configuration")
	}
	for _, name := range []string{"NATS_CREDS", "MARIA_LOG_LEVEL", "MARIA_STREAM_REPLICAS", "MARIA_NATS_LISTEN", "MARIA_HTTP_ADDR"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	env := config.NewEnvFrom(nil)
	c := config.Load(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	want := config.Config{HTTPAddr: ":3000", DataDir: "./data", EmbeddedListen: "127.0.0.1:4222", Replicas: 1,
		LogLevel: "info", LogFormat: "auto", ServiceName: "maria", DeclareStreams: true}
	if c != want {
		t.Fatalf("defaults = %+v, want %+v", c, want)
	}
}

// MARIA_PPROF_ADDR is off unless set, binds to loopback when only a port
// is given, and a malformed value is reported with the others.
func TestPprofAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{":6060", "127.0.0.1:6060"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"0.0.0.0:6060", "0.0.0.0:6060"},
	} {
		env := config.NewEnvFrom(map[string]string{"MARIA_PPROF_ADDR": c.in})
		if got := config.Load(env).PprofAddr; got != c.want || env.Err() != nil {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, env.Err(), c.want)
		}
	}
	env := config.NewEnvFrom(map[string]string{"MARIA_PPROF_ADDR": "6060"})
	if config.Load(env); env.Err() == nil {
		t.Error("a bare port without a colon was accepted")
	}
}
