package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/jsm.go"
	"github.com/nats-io/jsm.go/api"
	"github.com/nats-io/nats.go"
)

// RestoreOptions add what only a restore decides.
type RestoreOptions struct {
	Options
	// Replace deletes a stream that already exists before restoring it;
	// without it restore refuses to touch an account holding any of the
	// backup's streams (it never merges).
	Replace bool
	// Replicas, when > 0, overrides each stream's replica count: a backup
	// of a 3-node cluster restored into a single server (a laptop, a
	// rehearsal) needs 1.
	Replicas int
}

// Restore recreates every stream of the backup in o.Dir, with its
// messages and its consumers' positions, and returns the manifest.
func Restore(ctx context.Context, nc *nats.Conn, o RestoreOptions) (*Manifest, error) {
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return nil, err
	}
	mgr, err := o.manager(nc)
	if err != nil {
		return nil, err
	}
	if err := clearWay(mgr, m, o.Replace); err != nil {
		return nil, err
	}
	r := reporter{w: o.Progress, live: o.Live}
	r.printf("Restoring %d streams (backup of %s from nats-server %s) into nats-server %s\n", len(m.Streams), m.Created.Format(time.RFC3339), m.Server, nc.ConnectedServerVersion())
	var differ []string
	for _, e := range m.Streams {
		state, err := restoreStream(ctx, mgr, e, o, r)
		if err != nil {
			return nil, err
		}
		if state.Msgs != e.Messages {
			differ = append(differ, fmt.Sprintf("%s: %d messages, the backup had %d (limits such as max age applied)", e.Name, state.Msgs, e.Messages))
		}
	}
	for _, d := range differ {
		r.printf("  note: %s\n", d)
	}
	r.printf("Restore complete.\n")
	return m, nil
}

// clearWay checks that none of the backup's streams exists, or deletes
// them when replace is set; every conflict is reported at once.
func clearWay(mgr *jsm.Manager, m *Manifest, replace bool) error {
	var exist []string
	for _, e := range m.Streams {
		known, err := mgr.IsKnownStream(e.Name)
		if err != nil {
			return fmt.Errorf("restore: look up %s: %w", e.Name, err)
		}
		if known {
			exist = append(exist, e.Name)
		}
	}
	if len(exist) == 0 {
		return nil
	}
	if !replace {
		return fmt.Errorf("restore: these streams already exist: %s (stop Maria and restore into an empty server, or pass --replace to delete them first)", strings.Join(exist, ", "))
	}
	for _, name := range exist {
		if err := mgr.DeleteStream(name); err != nil {
			return fmt.Errorf("restore: delete %s: %w", name, err)
		}
	}
	return nil
}

func restoreStream(ctx context.Context, mgr *jsm.Manager, e Entry, o RestoreOptions, r reporter) (*api.StreamState, error) {
	dir := filepath.Join(o.Dir, e.Name)
	opts := []jsm.SnapshotOption{jsm.RestoreNotify(func(p jsm.RestoreProgress) {
		r.moving("restore", e.Name, uint64(p.ChunksSent()), uint64(max(1, p.ChunksToSend())), p.BytesPerSecond())
	})}
	if o.Replicas > 0 {
		cfg, err := snapshotConfig(dir)
		if err != nil {
			return nil, err
		}
		cfg.Replicas = o.Replicas
		opts = append(opts, jsm.RestoreConfiguration(cfg))
	}
	start := time.Now()
	state, err := backoff.RetryWithData(func() (*api.StreamState, error) {
		_, state, err := mgr.RestoreSnapshotFromDirectory(ctx, e.Name, dir, opts...)
		if err != nil && !storageDirRace(err) {
			return nil, backoff.Permanent(err)
		}
		return state, err
	}, backoff.WithContext(backoff.WithMaxRetries(backoff.NewConstantBackOff(200*time.Millisecond), 5), ctx))
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", e.Name, err)
	}
	r.finished("restore", Entry{Name: e.Name, Kind: e.Kind, Messages: state.Msgs, Bytes: state.Bytes, Consumers: state.Consumers}, time.Since(start))
	return state, nil
}

// storageDirRace tells the one restore failure worth another attempt: right
// after --replace deleted every stream of the account, nats-server may still
// be removing the account's storage directory while the restore creates the
// stream's directory in it ("could not create storage directory").
func storageDirRace(err error) bool {
	return strings.Contains(err.Error(), "could not create storage directory")
}

// snapshotConfig reads the stream configuration the snapshot carries.
func snapshotConfig(dir string) (api.StreamConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, jsm.SnapshotMetaFile))
	if err != nil {
		return api.StreamConfig{}, fmt.Errorf("restore: %w", err)
	}
	var req api.JSApiStreamRestoreRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return api.StreamConfig{}, fmt.Errorf("restore: %s: %w", filepath.Join(dir, jsm.SnapshotMetaFile), err)
	}
	return req.Config, nil
}
