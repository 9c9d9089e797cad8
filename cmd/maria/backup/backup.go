package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/nats-io/jsm.go"
	"github.com/nats-io/nats.go"
)

// Options are shared by Backup and Restore.
type Options struct {
	// Dir is the backup directory: one sub-directory per stream and the
	// manifest.
	Dir string
	// Progress receives a line per stream (nil: quiet); Live adds a
	// redrawn progress line (a terminal).
	Progress io.Writer
	Live     bool
	// Timeout bounds each JetStream API request (default 30 s); the
	// transfers themselves run until ctx ends.
	Timeout time.Duration
}

func (o Options) manager(nc *nats.Conn) (*jsm.Manager, error) {
	t := o.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	m, err := jsm.New(nc, jsm.WithTimeout(t))
	if err != nil {
		return nil, fmt.Errorf("jetstream manager: %w", err)
	}
	return m, nil
}

// Backup snapshots every stream of the account nc is connected to, with its
// consumers, into o.Dir, which must not hold a backup already. The
// manifest is written last, once every snapshot finished.
func Backup(ctx context.Context, nc *nats.Conn, o Options) (*Manifest, error) {
	if o.Dir == "" {
		return nil, errors.New("backup: no directory")
	}
	if _, err := os.Stat(filepath.Join(o.Dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("backup: %s already holds a backup; choose a new directory", o.Dir)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	mgr, err := o.manager(nc)
	if err != nil {
		return nil, err
	}
	names, err := mgr.StreamNames(nil)
	if err != nil {
		return nil, fmt.Errorf("backup: list streams: %w", err)
	}
	if len(names) == 0 {
		return nil, errors.New("backup: the account has no streams: nothing to back up")
	}
	sort.Strings(names)
	r := reporter{w: o.Progress, live: o.Live}
	r.printf("Backing up %d streams from nats-server %s into %s\n", len(names), nc.ConnectedServerVersion(), o.Dir)
	m := &Manifest{Format: manifestFormat, Created: time.Now().UTC(), Server: nc.ConnectedServerVersion()}
	for _, name := range names {
		e, err := snapshotStream(ctx, mgr, name, o.Dir, r)
		if err != nil {
			return nil, err
		}
		m.Streams = append(m.Streams, e)
	}
	if err := writeManifest(o.Dir, m); err != nil {
		return nil, err
	}
	r.printf("Backup complete: %s\n", filepath.Join(o.Dir, ManifestFile))
	return m, nil
}

func snapshotStream(ctx context.Context, mgr *jsm.Manager, name, dir string, r reporter) (Entry, error) {
	s, err := mgr.LoadStream(name)
	if err != nil {
		return Entry{}, fmt.Errorf("backup %s: %w", name, err)
	}
	info, err := s.Information()
	if err != nil {
		return Entry{}, fmt.Errorf("backup %s: %w", name, err)
	}
	e := Entry{Name: name, Kind: KindOf(name), Messages: info.State.Msgs, Bytes: info.State.Bytes, Consumers: info.State.Consumers}
	start := time.Now()
	_, err = s.SnapshotToDirectory(ctx, filepath.Join(dir, name), jsm.SnapshotConsumers(),
		jsm.SnapshotNotify(func(p jsm.SnapshotProgress) {
			r.moving("backup ", name, p.UncompressedBytesReceived(), p.BytesExpected(), p.BytesPerSecond())
		}))
	if err != nil {
		return Entry{}, fmt.Errorf("backup %s: snapshot: %w", name, err)
	}
	r.finished("backup ", e, time.Since(start))
	return e, nil
}
