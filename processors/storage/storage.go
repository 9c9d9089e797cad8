// Package storage is Maria's storage processor. It
//
//   - stores every file shared with Maria (maria.in.file.>) in object
//     storage — images in the images bucket, everything else in the docs
//     bucket — once per Slack file, and announces it on
//     maria.stored.file.<team>.<channel>;
//   - records every inbound message and every delivered reply as the
//     history of its thread, and serves it on maria.history.query;
//   - keeps both for MARIA_STORAGE_RETENTION.
//
// Two backends (MARIA_STORAGE): nats (default; JetStream Object Store + KV
// on the bus Maria already runs) and aws (S3 + DynamoDB).
package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/storage/awsstore"
	"github.com/mariahq/maria/processors/storage/natsstore"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/rs/zerolog"
)

// Service is the storage processor: three consumers and the history service.
type Service struct {
	cfg     Config
	bus     *bus.Bus
	blobs   store.Blobs
	records store.Records
	dl      *downloader
	log     zerolog.Logger
}

// Open connects the configured backend: on nats it creates the buckets
// idempotently; on aws it builds the SDK clients (buckets and table are
// provisioned by infra/ and checked by Check).
func Open(ctx context.Context, cfg Config, b *bus.Bus) (store.Blobs, store.Records, error) {
	switch cfg.Backend {
	case store.BackendNATS, "":
		s, err := natsstore.Open(ctx, b.JetStream(), natsstore.Config{Buckets: []string{cfg.ImagesBucket, cfg.DocsBucket},
			Retention: cfg.Retention, Replicas: b.Config().Replicas})
		if err != nil {
			return nil, nil, fmt.Errorf("storage (nats): %w", err)
		}
		return s, s, nil
	case store.BackendAWS:
		s3c, ddb, err := awsstore.Clients(ctx, cfg.AWS, cfg.PathStyle)
		if err != nil {
			return nil, nil, fmt.Errorf("storage (aws): %w", err)
		}
		s := awsstore.New(s3c, ddb, cfg.AWSConfig())
		return s, s, nil
	}
	return nil, nil, fmt.Errorf("storage: unknown backend %q", cfg.Backend)
}

// New builds the service on an opened backend.
func New(cfg Config, b *bus.Bus, blobs store.Blobs, records store.Records, log zerolog.Logger) *Service {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	return &Service{cfg: cfg, bus: b, blobs: blobs, records: records, dl: newDownloader(cfg),
		log: log.With().Str("backend", blobs.Backend()).Logger()}
}

// Check reports whether the backend is usable (readiness).
func (s *Service) Check(ctx context.Context) error {
	if err := s.blobs.Check(ctx); err != nil {
		return err
	}
	return s.records.Check(ctx)
}

// Blobs returns the object store (readers of stored files use it).
func (s *Service) Blobs() store.Blobs { return s.blobs }

// Records returns the record store.
func (s *Service) Records() store.Records { return s.records }

// Run serves history queries and runs the three consumers until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Check(ctx); err != nil {
		// Not fatal: /readyz reports it until the backend is reachable.
		s.log.Warn().Err(err).Msg("storage backend not ready yet")
	}
	svc, err := s.serveHistory(ctx, s.bus.Conn())
	if err != nil {
		return fmt.Errorf("history service: %w", err)
	}
	files, err := s.serveFiles(ctx, s.bus.Conn())
	if err != nil {
		_ = svc.Stop()
		return fmt.Errorf("files service: %w", err)
	}
	defer func() {
		if err := files.Stop(); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn().Err(err).Msg("files service stop")
		}
	}()
	s.log.Info().Str("images", s.cfg.ImagesBucket).Str("docs", s.cfg.DocsBucket).Dur("retention", s.cfg.Retention).
		Int64("max_file_bytes", s.cfg.MaxFileBytes).Msg("storage running")
	err = bus.Processors(s.bus, s.FilesProcessor(), s.HistoryInProcessor(), s.HistoryOutProcessor()).Run(ctx)
	if serr := svc.Stop(); serr != nil && !errors.Is(serr, context.Canceled) {
		s.log.Warn().Err(serr).Msg("history service stop")
	}
	return err
}
