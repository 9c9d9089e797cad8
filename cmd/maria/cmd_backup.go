package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/cmd/maria/backup"
	"github.com/spf13/cobra"
)

const backupLong = `Snapshot every stream of Maria's NATS account — the MARIA_* streams, the KV buckets
(thread memory, pending proposals) and the object stores (stored files) — with their
consumers' positions, so messages not yet processed are still unprocessed after a restore.

DIR gets one sub-directory per stream and a manifest.json written last; it must not hold
a backup already (default: ./maria-backup-<UTC time>). With --s3 the directory is packed
(tar.gz) and uploaded: s3://bucket/prefix/ names the object by time, s3://bucket/key
exactly. AWS credentials and region come from the SDK's chain (IRSA on EKS).

Reaches the bus like the other operator commands: NATS_URL + NATS_CREDS (the operator
user), else a running maria's embedded server, else a stopped data dir.`

func newBackupCmd(c *cli) *cobra.Command {
	var s3URL string
	cmd := &cobra.Command{
		Use:   "backup [DIR] [--s3 s3://bucket/prefix/]",
		Short: "snapshot every stream, KV bucket and object store (with consumer positions) into DIR and/or S3",
		Long:  backupLong,
		Args:  maxArgs(1, "a backup directory"),
		RunE: func(_ *cobra.Command, args []string) error {
			var loc backup.S3Location
			if s3URL != "" {
				var err error
				if loc, err = backup.ParseS3URL(s3URL); err != nil {
					return usageError{err}
				}
			}
			dir, cleanup, err := backupDir(args, s3URL != "")
			if err != nil {
				return err
			}
			defer cleanup()
			return c.withBus(func(ctx context.Context, b *bus.Bus) error {
				o := backup.Options{Dir: dir, Progress: c.errOut, Live: c.errTTY}
				if _, err := backup.Backup(ctx, b.Conn(), o); err != nil {
					return err
				}
				if s3URL == "" {
					fmt.Fprintln(c.out, dir)
					return nil
				}
				return uploadBackup(ctx, c, dir, loc)
			})
		},
	}
	cmd.Flags().StringVar(&s3URL, "s3", "", "also upload the backup as a tar.gz to s3://bucket/key (a key ending in / is a prefix)")
	return cmd
}

// backupDir is DIR, or a new default: a temporary one when the backup only
// goes to S3, removed afterwards.
func backupDir(args []string, toS3 bool) (string, func(), error) {
	if len(args) == 1 {
		return args[0], func() {}, nil
	}
	if toS3 {
		dir, err := os.MkdirTemp("", "maria-backup-")
		if err != nil {
			return "", nil, fmt.Errorf("backup: %w", err)
		}
		return dir, func() { _ = os.RemoveAll(dir) }, nil
	}
	return "maria-backup-" + time.Now().UTC().Format("20060102T150405Z"), func() {}, nil
}

func uploadBackup(ctx context.Context, c *cli, dir string, loc backup.S3Location) error {
	client, err := backup.S3Client(ctx, config.NewEnv())
	if err != nil {
		return err
	}
	dst, err := backup.Upload(ctx, client, dir, loc)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.errOut, "Uploaded to %s\n", dst)
	fmt.Fprintln(c.out, dst)
	return nil
}
