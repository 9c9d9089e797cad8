package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/backup"
	"github.com/mariahq/maria/cmd/maria/ops"
	"github.com/spf13/cobra"
)

const restoreLong = `Recreate every stream of a maria backup (a directory, or s3://bucket/key of an uploaded
one) with its messages and consumer positions. Run it with Maria stopped, against an
empty server: it refuses when any of the backup's streams exists, naming them all,
unless --replace (which deletes them first). --replicas overrides the replica count,
e.g. 1 to rehearse a cluster's backup on one server.

Reaches the bus like the other operator commands; with nothing running and no NATS_URL
it creates MARIA_DATA_DIR's JetStream store, so 'maria run' starts on the restored state.`

func newRestoreCmd(c *cli) *cobra.Command {
	var o backup.RestoreOptions
	cmd := &cobra.Command{
		Use:   "restore DIR|s3://bucket/key [--replace] [--replicas N]",
		Short: "recreate the streams, KV buckets and object stores of a maria backup",
		Long:  restoreLong,
		Args:  exactArgs(1, "a backup directory or s3:// URL"),
		RunE: func(_ *cobra.Command, args []string) error {
			if o.Replicas < 0 || o.Replicas > 5 {
				return usagef("--replicas %d: want 1 to 5 (0: as backed up)", o.Replicas)
			}
			ctx, stop := signalContext()
			defer stop()
			dir, cleanup, err := fetchBackup(ctx, args[0])
			if err != nil {
				return err
			}
			defer cleanup()
			if _, err := backup.ReadManifest(dir); err != nil {
				return err
			}
			b, err := connectForRestore(ctx, c)
			if err != nil {
				return err
			}
			defer b.Close()
			o.Dir, o.Progress, o.Live = dir, c.errOut, c.errTTY
			_, err = backup.Restore(ctx, b.Conn(), o)
			return err
		},
	}
	cmd.Flags().BoolVar(&o.Replace, "replace", false, "delete the backup's streams first where they exist")
	cmd.Flags().IntVar(&o.Replicas, "replicas", 0, "replica count for every restored stream (0: as backed up)")
	return cmd
}

// fetchBackup returns the local directory of the backup at src, downloading
// an s3:// one into a temporary directory.
func fetchBackup(ctx context.Context, src string) (string, func(), error) {
	if !backup.IsS3URL(src) {
		return src, func() {}, nil
	}
	loc, err := backup.ParseS3URL(src)
	if err != nil {
		return "", nil, usageError{err}
	}
	client, err := backup.S3Client(ctx, config.NewEnv())
	if err != nil {
		return "", nil, err
	}
	tmp, err := os.MkdirTemp("", "maria-restore-")
	if err != nil {
		return "", nil, fmt.Errorf("restore: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	dir := filepath.Join(tmp, "backup")
	if err := backup.Download(ctx, client, loc, dir); err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}

// connectForRestore is ops.Connect, except that with nothing running it
// creates the data dir's JetStream store: restore is the one operator
// command whose job is to create state.
func connectForRestore(ctx context.Context, c *cli) (*bus.Bus, error) {
	b, err := ops.Connect(ctx, config.NewEnv(), c.errOut)
	var nothing *ops.NothingRunningError
	if !errors.As(err, &nothing) {
		return b, err
	}
	if err := os.MkdirAll(filepath.Join(nothing.DataDir, "jetstream"), 0o700); err != nil {
		return nil, fmt.Errorf("restore: create the data dir: %w", err)
	}
	fmt.Fprintf(c.errOut, "Nothing running: restoring into the data dir %s\n", nothing.DataDir)
	return ops.Connect(ctx, config.NewEnv(), c.errOut)
}
