// Package natsstore is the default storage backend: JetStream Object Store
// buckets for file contents and one KV bucket for records, on the same NATS
// Maria already runs (embedded or cluster). Retention is the buckets' TTL.
package natsstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mariahq/maria/bus/kv"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names of the records.
const (
	// RecordsBucket holds file records, the content index and thread history.
	RecordsBucket = "maria_records"
	// ClaimsBucket holds short-lived work claims.
	ClaimsBucket = "maria_storage_claims"
	claimsTTL    = 24 * time.Hour
)

// Config of the NATS backend.
type Config struct {
	// Buckets are the Object Store buckets to create (images, docs).
	Buckets []string
	// Retention is the TTL of objects and records (0: keep forever).
	Retention time.Duration
	Replicas  int
}

// Store implements store.Blobs and store.Records on JetStream.
type Store struct {
	js      jetstream.JetStream
	objs    map[string]jetstream.ObjectStore
	records jetstream.KeyValue
	// files are the file and content records; entries the thread history;
	// claims the work claims — typed views, whose compare-and-set writes
	// are kv.Store's.
	files   kv.Store[store.FileRecord]
	entries kv.Store[store.Entry]
	claims  kv.Store[claim]
}

var (
	_ store.Blobs   = (*Store)(nil)
	_ store.Records = (*Store)(nil)
)

// Open creates (or updates) the buckets idempotently; every replica may call it.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	replicas := max(1, cfg.Replicas)
	s := &Store{js: js, objs: map[string]jetstream.ObjectStore{}}
	for _, b := range cfg.Buckets {
		if _, dup := s.objs[b]; dup {
			continue
		}
		os, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: b, Description: "maria files", TTL: cfg.Retention,
			Storage: jetstream.FileStorage, Replicas: replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("object store %s: %w", b, err)
		}
		s.objs[b] = os
	}
	var err error
	s.records, err = kv.Open(ctx, js, kv.Config{
		Bucket: RecordsBucket, Description: "maria storage records: files, content index, thread history",
		TTL: cfg.Retention, Replicas: replicas,
	})
	if err != nil {
		return nil, err
	}
	claims, err := kv.Open(ctx, js, kv.Config{
		Bucket: ClaimsBucket, Description: "maria storage work claims",
		TTL: claimsTTL, Replicas: replicas,
	})
	if err != nil {
		return nil, err
	}
	s.files, s.entries, s.claims = kv.Typed[store.FileRecord](s.records), kv.Typed[store.Entry](s.records), kv.Typed[claim](claims)
	return s, nil
}

// Backend implements store.Blobs.
func (s *Store) Backend() string { return store.BackendNATS }

func (s *Store) bucket(name string) (jetstream.ObjectStore, error) {
	o, ok := s.objs[name]
	if !ok {
		return nil, fmt.Errorf("object store bucket %q is not configured", name)
	}
	return o, nil
}

// Put implements store.Blobs. The Object Store computes its own SHA-256
// digest; a mismatch with the one computed while downloading is an error.
func (s *Store) Put(ctx context.Context, o store.PutObject) error {
	b, err := s.bucket(o.Bucket)
	if err != nil {
		return err
	}
	if _, err := o.Body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", o.Key, err)
	}
	meta := map[string]string{"content-type": o.ContentType}
	for k, v := range o.Metadata {
		meta[k] = v
	}
	info, err := b.Put(ctx, jetstream.ObjectMeta{
		Name:     o.Key,
		Headers:  nats.Header{"Content-Type": []string{o.ContentType}},
		Metadata: meta,
	}, o.Body)
	if err != nil {
		return fmt.Errorf("object store put %s/%s: %w", o.Bucket, o.Key, err)
	}
	if o.SHA256 != "" {
		if got := digestHex(info.Digest); got != o.SHA256 {
			return fmt.Errorf("object store put %s/%s: digest %s does not match sha256 %s", o.Bucket, o.Key, got, o.SHA256)
		}
	}
	return nil
}

// digestHex turns the Object Store's "SHA-256=<base64url>" into hex.
func digestHex(d string) string {
	raw, err := base64.URLEncoding.DecodeString(strings.TrimPrefix(d, "SHA-256="))
	if err != nil || len(raw) != sha256.Size {
		return d
	}
	return hex.EncodeToString(raw)
}

func objectInfo(bucket string, i *jetstream.ObjectInfo) store.ObjectInfo {
	meta := map[string]string{}
	for k, v := range i.Metadata {
		meta[k] = v
	}
	ct := i.Headers.Get("Content-Type")
	if ct == "" {
		ct = meta["content-type"]
	}
	delete(meta, "content-type")
	return store.ObjectInfo{Bucket: bucket, Key: i.Name, ContentType: ct, Size: int64(i.Size), Metadata: meta}
}

// Stat implements store.Blobs.
func (s *Store) Stat(ctx context.Context, bucket, key string) (store.ObjectInfo, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	i, err := b.GetInfo(ctx, key)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return store.ObjectInfo{}, fmt.Errorf("%s/%s: %w", bucket, key, store.ErrNotFound)
	}
	if err != nil {
		return store.ObjectInfo{}, fmt.Errorf("object store stat %s/%s: %w", bucket, key, err)
	}
	return objectInfo(bucket, i), nil
}

// Get implements store.Blobs.
func (s *Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, store.ObjectInfo, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return nil, store.ObjectInfo{}, err
	}
	r, err := b.Get(ctx, key)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, store.ObjectInfo{}, fmt.Errorf("%s/%s: %w", bucket, key, store.ErrNotFound)
	}
	if err != nil {
		return nil, store.ObjectInfo{}, fmt.Errorf("object store get %s/%s: %w", bucket, key, err)
	}
	i, err := r.Info()
	if err != nil {
		r.Close()
		return nil, store.ObjectInfo{}, fmt.Errorf("object store get %s/%s: %w", bucket, key, err)
	}
	return r, objectInfo(bucket, i), nil
}

// List implements store.Blobs.
func (s *Store) List(ctx context.Context, bucket string) ([]string, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return nil, err
	}
	infos, err := b.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("object store list %s: %w", bucket, err)
	}
	keys := make([]string, 0, len(infos))
	for _, i := range infos {
		keys = append(keys, i.Name)
	}
	sort.Strings(keys)
	return keys, nil
}

// Check implements store.Blobs and store.Records.
func (s *Store) Check(ctx context.Context) error {
	for name := range s.objs {
		if _, err := s.js.ObjectStore(ctx, name); err != nil {
			return fmt.Errorf("object store %s: %w", name, err)
		}
	}
	if _, err := s.js.KeyValue(ctx, RecordsBucket); err != nil {
		return fmt.Errorf("kv %s: %w", RecordsBucket, err)
	}
	return nil
}

// esc makes s one KV key token: letters, digits and '-' pass; every other
// byte becomes '_' plus two hex digits, so distinct inputs stay distinct.
func esc(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// fileKey is a file record's key: per workspace, as a Slack Connect
// channel shows one file id to several. legacyFileKey is the key records
// had before (the file id alone), still read (store.LegacyFileOf).
func fileKey(team, id string) string { return "file." + esc(team) + "." + esc(id) }

func legacyFileKey(id string) string { return "file." + esc(id) }

func contentKey(team, channel, thread, sha string) string {
	return "content." + esc(team) + "." + esc(channel) + "." + esc(thread) + "." + esc(sha)
}

func threadPrefix(team, channel, thread string) string {
	return "thread." + esc(team) + "." + esc(channel) + "." + esc(thread)
}

// create stores r under key unless the key exists; then it returns the
// existing record (created false).
func (s *Store) create(ctx context.Context, key string, r store.FileRecord) (store.FileRecord, bool, error) {
	for range 3 {
		_, err := s.files.Create(ctx, key, r)
		if err == nil {
			return store.FileRecord{}, true, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return store.FileRecord{}, false, err
		}
		e, found, err := s.files.Get(ctx, key)
		if err != nil {
			return store.FileRecord{}, false, err
		}
		if found {
			return e.Value, false, nil
		}
		// Expired between the two calls: try again.
	}
	return store.FileRecord{}, false, fmt.Errorf("kv create %s: key keeps changing", key)
}

// GetFile implements store.Records.
func (s *Store) GetFile(ctx context.Context, team, fileID string) (store.FileRecord, bool, error) {
	e, found, err := s.files.Get(ctx, fileKey(team, fileID))
	if err != nil || found {
		return e.Value, found, err
	}
	e, found, err = s.files.Get(ctx, legacyFileKey(fileID))
	if err != nil || !found || !store.LegacyFileOf(e.Value, team) {
		return store.FileRecord{}, false, err
	}
	return e.Value, true, nil
}

// CreateFile implements store.Records.
func (s *Store) CreateFile(ctx context.Context, r store.FileRecord) (store.FileRecord, bool, error) {
	return s.create(ctx, fileKey(r.Team, r.FileID), r)
}

// GetContent implements store.Records.
func (s *Store) GetContent(ctx context.Context, team, channel, threadTS, sha string) (store.FileRecord, bool, error) {
	e, found, err := s.files.Get(ctx, contentKey(team, channel, threadTS, sha))
	return e.Value, found, err
}

// CreateContent implements store.Records.
func (s *Store) CreateContent(ctx context.Context, r store.FileRecord) (store.FileRecord, bool, error) {
	return s.create(ctx, contentKey(r.Team, r.Channel, r.ThreadTS, r.SHA256), r)
}

type claim struct {
	Claimed time.Time `json:"claimed"`
}

// Claim implements store.Records with KV create / compare-and-set.
func (s *Store) Claim(ctx context.Context, key string, stale time.Duration) error {
	k := "claim." + esc(key)
	mine := claim{Claimed: time.Now().UTC()}
	_, err := s.claims.Create(ctx, k, mine)
	if err == nil {
		return nil
	}
	if !errors.Is(err, kv.ErrConflict) {
		return fmt.Errorf("claim %s: %w", key, err)
	}
	cur, found, err := s.claims.Get(ctx, k)
	if err != nil {
		return fmt.Errorf("claim %s: %w", key, err)
	}
	if !found {
		if _, err := s.claims.Create(ctx, k, mine); err != nil {
			return store.ErrInFlight
		}
		return nil
	}
	if time.Since(cur.Value.Claimed) < stale {
		return store.ErrInFlight
	}
	// Abandoned by a crashed holder: take it over unless someone else did.
	if _, err := s.claims.Put(ctx, k, mine, cur.Revision); err != nil {
		return store.ErrInFlight
	}
	return nil
}

// Release implements store.Records.
func (s *Store) Release(ctx context.Context, key string) error {
	if err := s.claims.Delete(ctx, "claim."+esc(key)); err != nil {
		return fmt.Errorf("release claim %s: %w", key, err)
	}
	return nil
}

// PutEntry implements store.Records.
func (s *Store) PutEntry(ctx context.Context, e store.Entry) error {
	key := threadPrefix(e.Team, e.Channel, e.ThreadTS) + "." + esc(e.TS) + "." + esc(e.ID)
	_, err := s.entries.Set(ctx, key, e)
	return err
}

// Entries implements store.Records: a filtered watch delivers the current
// value of every key of the thread, then a nil marker.
func (s *Store) Entries(ctx context.Context, team, channel, threadTS string, maxEntries int) ([]store.Entry, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.records.Watch(ctx, threadPrefix(team, channel, threadTS)+".>", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("kv watch thread: %w", err)
	}
	var out []store.Entry
	err = kv.Initial(ctx, w, func(kve jetstream.KeyValueEntry) error {
		var e store.Entry
		if err := json.Unmarshal(kve.Value(), &e); err != nil {
			return fmt.Errorf("history entry %s: %w", kve.Key(), err)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read thread history: %w", err)
	}
	sortEntries(out)
	if maxEntries > 0 && len(out) > maxEntries {
		out = out[len(out)-maxEntries:]
	}
	return out, nil
}

func sortEntries(es []store.Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].TS != es[j].TS {
			return store.TSLess(es[i].TS, es[j].TS)
		}
		return es[i].Time.Before(es[j].Time)
	})
}
