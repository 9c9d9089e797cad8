package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/schemas"
	"go.opentelemetry.io/otel/attribute"
)

// FilesProcessor is the consumer of shared files (durable storage-files).
func (s *Service) FilesProcessor() bus.Processor {
	spec, ok := schemas.ConsumerByName("storage-files")
	if !ok {
		spec = schemas.ConsumerSpec{Durable: "storage-files", Stream: schemas.StreamIn,
			FilterSubjects: []string{schemas.InKindFilter(schemas.KindFile)}, AckWait: 2 * time.Minute, MaxDeliver: 5}
	}
	p := bus.FromSpec(spec, s.handleFile)
	p.Concurrency = s.cfg.Concurrency
	p.Log = &s.log
	return p
}

// handleFile stores one shared file exactly once:
//
//  1. a file record for the Slack file id in this workspace exists → already stored: announce
//     it again for this event (same object) and stop;
//  2. claim the file id, so concurrent events for it download it once;
//  3. download with the bot token into a temporary file, hashing and
//     sniffing as it streams (size limit enforced before and during);
//  4. the same bytes already stored in this thread (content index) →
//     reuse that object; else put the object (deterministic key, so a
//     retried put overwrites itself) and index its content;
//  5. create the file record (conditional: the first writer wins);
//  6. publish stored.file.v1 on maria.stored.file.<team>.<channel>.
func (s *Service) handleFile(ctx context.Context, m *bus.Msg) error {
	backend := s.blobs.Backend()
	ev, err := schemas.DecodeData[schemas.SlackFileShared](m.Env)
	if err != nil {
		metricFiles.WithLabelValues(backend, "", "refused").Inc()
		return bus.Permanent(err)
	}
	f := ev.File
	if f.ID == "" {
		metricFiles.WithLabelValues(backend, "", "refused").Inc()
		return bus.Permanent(errors.New("file event without a file id"))
	}
	log := m.Log.With().Str("file_id", f.ID).Logger()

	octx, done := timed(ctx, backend, "get_file", fileAttr(f.ID))
	rec, found, err := s.records.GetFile(octx, m.Env.Team, f.ID)
	done(err)
	if err != nil {
		return bus.Retry(err)
	}
	if found {
		metricFiles.WithLabelValues(backend, rec.Bucket, "duplicate").Inc()
		log.Info().Str("key", rec.Key).Msg("file already stored; not storing it again")
		return s.announce(ctx, m, ev, rec)
	}

	claimKey := "file:" + m.Env.Team + ":" + f.ID // each workspace stores its own copy
	octx, done = timed(ctx, backend, "claim", fileAttr(f.ID))
	err = s.records.Claim(octx, claimKey, s.claimStale())
	done(err)
	if errors.Is(err, store.ErrInFlight) {
		return bus.RetryAfter(fmt.Errorf("file %s is being stored by another delivery", f.ID), 15*time.Second)
	}
	if err != nil {
		return bus.Retry(err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.records.Release(rctx, claimKey); err != nil {
			log.Warn().Err(err).Msg("release claim failed; it expires on its own")
		}
	}()

	rec, err = s.storeFile(ctx, m, ev)
	if err != nil {
		outcome := "failed"
		if bus.IsPermanent(err) {
			outcome = "refused" // the runtime logs it and dead-letters it with err as reason
		}
		metricFiles.WithLabelValues(backend, rec.Bucket, outcome).Inc()
		return err
	}
	return s.announce(ctx, m, ev, rec)
}

// storeFile runs steps 3-5; the returned record's Bucket is set as soon as
// it is known so failures are counted per bucket.
func (s *Service) storeFile(ctx context.Context, m *bus.Msg, ev *schemas.SlackFileShared) (store.FileRecord, error) {
	backend := s.blobs.Backend()
	f := ev.File
	team, channel, user := m.Env.Team, m.Env.Channel, m.Env.User
	thread := firstNonEmpty(m.Env.ThreadTS, ev.TS)
	rec := store.FileRecord{FileID: f.ID, Name: f.Name, Team: team, Channel: channel, ThreadTS: thread, User: user,
		TS: ev.TS, Backend: backend}

	done := observe(backend, "download") // the downloader traces its Slack calls
	dl, err := s.dl.fetch(ctx, team, f, func() { _ = m.InProgress() })
	done()
	if err != nil {
		return rec, err
	}
	defer dl.Close()
	content, err := Detect(dl.Head, f.Name, f.Mimetype)
	if err != nil {
		return rec, bus.Permanent(fmt.Errorf("file %s (%q): %w", f.ID, f.Name, err))
	}
	rec.Bucket = s.cfg.DocsBucket
	if content.Image {
		rec.Bucket = s.cfg.ImagesBucket
	}
	rec.ContentType, rec.Size, rec.SHA256 = content.Type, dl.Size, dl.SHA256
	rec.Key = store.ObjectKey(team, channel, f.ID, f.Name)
	rec.StoredAt = time.Now().UTC()
	_ = m.InProgress()

	octx, odone := timed(ctx, backend, "get_content", fileAttr(f.ID))
	prev, dup, err := s.records.GetContent(octx, team, channel, thread, dl.SHA256)
	odone(err)
	if err != nil {
		return rec, bus.Retry(err)
	}
	if dup && prev.FileID != f.ID {
		// The same bytes were shared in this thread before: point at that
		// object, unless retention already removed it.
		octx, odone = timed(ctx, backend, "stat_object", attribute.String("maria.storage.bucket", prev.Bucket), fileAttr(f.ID))
		_, serr := s.blobs.Stat(octx, prev.Bucket, prev.Key)
		odone(serr)
		switch {
		case serr == nil:
			rec.Bucket, rec.Key, rec.DuplicateOf = prev.Bucket, prev.Key, prev.FileID
			rec.ContentType, rec.StoredAt = prev.ContentType, prev.StoredAt
		case errors.Is(serr, store.ErrNotFound):
			dup = false
		default:
			return rec, bus.Retry(serr)
		}
	} else {
		dup = false
	}
	if !dup {
		meta := map[string]string{
			store.MetaTeam: team, store.MetaChannel: channel, store.MetaThreadTS: thread, store.MetaUser: user,
			store.MetaTS: ev.TS, store.MetaFileID: f.ID, store.MetaName: url.QueryEscape(f.Name), store.MetaSHA256: dl.SHA256,
		}
		for k, v := range meta {
			if v == "" {
				delete(meta, k)
			}
		}
		octx, odone = timed(ctx, backend, "put_object", attribute.String("maria.storage.bucket", rec.Bucket), fileAttr(f.ID),
			attribute.Int64("maria.storage.size", dl.Size), attribute.String("maria.storage.content_type", rec.ContentType))
		err = s.blobs.Put(octx, store.PutObject{Bucket: rec.Bucket, Key: rec.Key, ContentType: rec.ContentType,
			Size: dl.Size, SHA256: dl.SHA256, Metadata: meta, Body: dl.File})
		odone(err)
		if err != nil {
			return rec, bus.Retry(err)
		}
		metricBytes.WithLabelValues(backend, rec.Bucket).Add(float64(dl.Size))
		octx, odone = timed(ctx, backend, "create_content", fileAttr(f.ID))
		_, _, err = s.records.CreateContent(octx, rec)
		odone(err)
		if err != nil {
			return rec, bus.Retry(err)
		}
	}

	if err := s.extractText(ctx, dl, &rec); err != nil {
		return rec, bus.Retry(err)
	}
	octx, odone = timed(ctx, backend, "create_file", fileAttr(f.ID))
	existing, created, err := s.records.CreateFile(octx, rec)
	odone(err)
	if err != nil {
		return rec, bus.Retry(err)
	}
	outcome := "stored"
	switch {
	case !created:
		rec, outcome = existing, "duplicate"
	case rec.DuplicateOf != "":
		outcome = "duplicate"
	}
	metricFiles.WithLabelValues(backend, rec.Bucket, outcome).Inc()
	m.Log.Info().Str("file_id", f.ID).Str("bucket", rec.Bucket).Str("key", rec.Key).Str("content_type", rec.ContentType).
		Int64("size", rec.Size).Str("outcome", outcome).Str("duplicate_of", rec.DuplicateOf).Msg("file stored")
	return rec, nil
}

// announce publishes stored.file.v1 as a child of the file event: a
// redelivered event republishes the same id, which the stream drops.
func (s *Service) announce(ctx context.Context, m *bus.Msg, ev *schemas.SlackFileShared, rec store.FileRecord) error {
	sf := schemas.StoredFile{FileID: ev.File.ID, Name: firstNonEmpty(ev.File.Name, rec.Name), Backend: rec.Backend, Bucket: rec.Bucket,
		Key: rec.Key, ContentType: rec.ContentType, Size: rec.Size, SHA256: rec.SHA256, TS: firstNonEmpty(ev.TS, rec.TS)}
	_, err := m.Publish(ctx, schemas.StoredFileSubject(m.Env.Team, m.Env.Channel), "stored:"+ev.File.ID, schemas.TypeStoredFile, sf)
	return err
}

// fileAttr names the Slack file an operation is about.
func fileAttr(id string) attribute.KeyValue { return attribute.String("maria.slack.file_id", id) }

// claimStale is how old a claim must be before another delivery may take
// it over: longer than any download can run.
func (s *Service) claimStale() time.Duration { return s.cfg.DownloadTimeout + time.Minute }

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
