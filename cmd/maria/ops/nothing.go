package ops

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mariahq/maria/bus/config"
)

// NothingRunningError: no NATS_URL, no server on MARIA_NATS_LISTEN and no
// JetStream data in MARIA_DATA_DIR — there is nothing to operate on, and
// opening the data dir anyway would create an empty one (./data/jetstream)
// and print empty tables, as if a deployment were there and idle.
type NothingRunningError struct {
	Listen  string // MARIA_NATS_LISTEN ("-": none)
	DataDir string
}

func (e *NothingRunningError) Error() string {
	where := "at " + e.Listen
	if e.Listen == "" || e.Listen == "-" {
		where = "(MARIA_NATS_LISTEN=-, NATS_URL unset)"
	}
	return fmt.Sprintf("nothing is running %s and no data dir at %s: start maria run, or set NATS_URL or MARIA_DATA_DIR", where, e.DataDir)
}

// dataDirHoldsJetStream accepts a data dir that a maria run already used (it
// holds a jetstream directory) and refuses anything else without touching
// the file system.
func dataDirHoldsJetStream(cfg config.Config) error {
	if fi, err := os.Stat(filepath.Join(cfg.DataDir, "jetstream")); err == nil && fi.IsDir() {
		return nil
	}
	return &NothingRunningError{Listen: cfg.EmbeddedListen, DataDir: cfg.DataDir}
}
