package ops_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/mariahq/maria/schemas"
)

// Operator commands never create state: with no NATS_URL, nothing on
// MARIA_NATS_LISTEN and no JetStream data in MARIA_DATA_DIR, Connect says
// so in one line and leaves the file system alone (it used to start an
// embedded server there, creating ./data/jetstream and showing empty tables).
func TestConnectWithNothingRunningCreatesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	ln.Close()
	root := t.TempDir()
	for _, dataDir := range []string{filepath.Join(root, "data"), root} { // missing, and present but empty
		_, err := ops.Connect(ctxT(t), config.NewEnvFrom(map[string]string{"MARIA_NATS_LISTEN": free, "MARIA_DATA_DIR": dataDir}), nil)
		var nothing *ops.NothingRunningError
		if !errors.As(err, &nothing) || strings.Contains(err.Error(), "\n") ||
			err.Error() != "nothing is running at "+free+" and no data dir at "+dataDir+": start maria run, or set NATS_URL or MARIA_DATA_DIR" {
			t.Fatalf("data dir %s: err = %v", dataDir, err)
		}
	}
	if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
		t.Fatalf("Connect created %v (%v)", entries, err)
	}
}

// A server where no service declared the streams: the dlq commands say so
// instead of JetStream's raw 404.
func TestDLQWithoutStreamIsOneClearError(t *testing.T) {
	b := bustest.New(t, bustest.Options{NoStreams: true})
	var out strings.Builder
	err := ops.DLQList(ctxT(t), b.JetStream(), ops.DLQSelection{}, ops.Console{Out: &out}, false)
	var missing *ops.MissingStreamError
	if !errors.As(err, &missing) || missing.Stream != schemas.StreamDLQ || strings.Contains(err.Error(), "API error") || out.Len() != 0 {
		t.Fatalf("DLQList: err = %v, printed %q", err, out.String())
	}
	if _, err := ops.Select(ctxT(t), b.JetStream(), schemas.StreamIn, ops.Window{FromSeq: 1}); !errors.As(err, &missing) || missing.Stream != schemas.StreamIn {
		t.Fatalf("Select: err = %v", err)
	}
}
