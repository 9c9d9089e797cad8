// Package store declares what the storage processor needs from a backend:
// Blobs (object storage for file contents) and Records (file records,
// content index, thread history, claims). Two backends implement it:
// natsstore (JetStream Object Store + KV, the default) and awsstore (S3 +
// DynamoDB). The package is a leaf so both backends and their users can
// import it.
package store

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// Backend names (MARIA_STORAGE).
const (
	BackendNATS = "nats"
	BackendAWS  = "aws"
)

// Errors shared by the backends.
var (
	// ErrNotFound: no such object or record.
	ErrNotFound = errors.New("not found")
	// ErrInFlight: another delivery holds a fresh claim on the key.
	ErrInFlight = errors.New("claimed by another delivery")
)

// Object metadata keys, identical on both backends (S3 sends them as
// x-amz-meta-<key>; the Object Store keeps them in ObjectMeta.Metadata).
const (
	MetaTeam     = "team"
	MetaChannel  = "channel"
	MetaThreadTS = "thread-ts"
	MetaUser     = "user"
	MetaTS       = "ts"
	MetaFileID   = "file-id"
	// MetaName is the original file name, URL-encoded (S3 metadata must be ASCII).
	MetaName   = "name"
	MetaSHA256 = "sha256"
)

// PutObject is one object to store. Body is seekable so a backend can
// retry or compute its own checksums; Size and SHA256 (hex) are known
// before the upload starts.
type PutObject struct {
	Bucket      string
	Key         string
	ContentType string
	Size        int64
	SHA256      string
	Metadata    map[string]string
	Body        io.ReadSeeker
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Bucket      string
	Key         string
	ContentType string
	Size        int64
	Metadata    map[string]string
	// Encryption is the server-side encryption the backend reported
	// ("AES256", "aws:kms"), empty when none or unknown.
	Encryption string
}

// Blobs stores file contents.
type Blobs interface {
	// Backend names the backend ("nats" or "aws").
	Backend() string
	// Put stores the object, replacing any object under the same key.
	Put(ctx context.Context, o PutObject) error
	// Stat returns the object's description or ErrNotFound.
	Stat(ctx context.Context, bucket, key string) (ObjectInfo, error)
	// Get opens the object for reading; the caller closes it. ErrNotFound
	// when missing.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, ObjectInfo, error)
	// List returns the keys in a bucket (tests and operator tooling).
	List(ctx context.Context, bucket string) ([]string, error)
	// Check reports whether the configured buckets are usable (readiness).
	Check(ctx context.Context) error
}

// FileRecord is the durable record of one stored Slack file.
type FileRecord struct {
	FileID      string    `json:"file_id"`
	Name        string    `json:"name,omitempty"`
	Team        string    `json:"team,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	ThreadTS    string    `json:"thread_ts,omitempty"`
	User        string    `json:"user,omitempty"`
	TS          string    `json:"ts,omitempty"`
	Backend     string    `json:"backend"`
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	StoredAt    time.Time `json:"stored_at"`
	// DuplicateOf names the file whose object this one reuses (same content
	// shared again in the same thread); empty for the original.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Reading: what extraction at store time made of the file (see
	// storage/extracted.go). ReadKind is text, image, unsupported,
	// unreadable or too_big; TextKey the object holding the extracted text
	// (docs bucket); ReadError why it cannot be read, in the user's words.
	ReadKind      string `json:"read_kind,omitempty"`
	TextKey       string `json:"text_key,omitempty"`
	TextChars     int    `json:"text_chars,omitempty"`
	TextTruncated bool   `json:"text_truncated,omitempty"`
	TextNote      string `json:"text_note,omitempty"`
	ReadError     string `json:"read_error,omitempty"`
}

// Roles of a history entry.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Entry operations: how an entry changes the turn at its ts.
const (
	// OpSet sets the turn's text (a new message, an edit, a final stream text).
	OpSet = "set"
	// OpAppend appends to the turn's text (a streamed chunk).
	OpAppend = "append"
	// OpDelete removes the turn (a deleted message).
	OpDelete = "delete"
)

// Entry is one recorded event of a thread. Several entries may address the
// same message (same TS and Role): a post then its edits, or a stream's
// chunks; Fold combines them into turns. Entries are keyed by (thread, TS,
// ID), so recording the same event twice stores it once.
type Entry struct {
	Team     string    `json:"team"`
	Channel  string    `json:"channel"`
	ThreadTS string    `json:"thread_ts"`
	TS       string    `json:"ts"`
	ID       string    `json:"id"`
	User     string    `json:"user,omitempty"`
	Role     string    `json:"role"`
	Op       string    `json:"op"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
}

// Records is the durable record store.
type Records interface {
	// GetFile returns the record of a Slack file id as shared in team.
	// Records are keyed by (team, file id): a Slack Connect channel shows
	// one file id to several workspaces, each storing its own copy. A
	// record stored before that, under the file id alone, is still found
	// when it belongs to team (LegacyFileOf).
	GetFile(ctx context.Context, team, fileID string) (FileRecord, bool, error)
	// CreateFile stores r unless a record for (r.Team, r.FileID) exists;
	// then it returns the existing one and created=false.
	CreateFile(ctx context.Context, r FileRecord) (existing FileRecord, created bool, err error)
	// GetContent returns the file stored with this sha256 in this thread.
	GetContent(ctx context.Context, team, channel, threadTS, sha256 string) (FileRecord, bool, error)
	// CreateContent indexes r by (thread, sha256) unless already indexed.
	CreateContent(ctx context.Context, r FileRecord) (existing FileRecord, created bool, err error)
	// Claim takes an exclusive, expiring claim on key for the length of one
	// piece of work. It returns ErrInFlight while another holder's claim is
	// younger than stale. Release drops it.
	Claim(ctx context.Context, key string, stale time.Duration) error
	Release(ctx context.Context, key string) error
	// PutEntry records a history entry (idempotent on thread, TS and ID).
	PutEntry(ctx context.Context, e Entry) error
	// Entries returns up to max entries of a thread, oldest TS first.
	Entries(ctx context.Context, team, channel, threadTS string, max int) ([]Entry, error)
	// Check reports whether the store is usable (readiness).
	Check(ctx context.Context) error
}

// KeySafe keeps letters, digits, '-', '_' and '.', replacing anything else
// with '_' and bounding the length: it turns file names into object key
// segments that mean the same on every backend and filesystem.
func KeySafe(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "_"
	}
	return out
}

// LegacyFileOf reports whether a record stored under the file id alone
// (before records were keyed by team) may answer team's lookup: only when
// it was stored for that team, or for none recorded.
func LegacyFileOf(r FileRecord, team string) bool { return r.Team == "" || r.Team == team }

// ObjectKey is where a Slack file is stored: <team>/<channel>/<file id>/<name>.
// It depends only on the event, so a retried upload overwrites itself.
func ObjectKey(team, channel, fileID, name string) string {
	if name == "" {
		name = "file"
	}
	return KeySafe(team, 64) + "/" + KeySafe(channel, 64) + "/" + KeySafe(fileID, 64) + "/" + KeySafe(name, 120)
}

// TSLess orders Slack timestamps ("1700000000.000100") numerically; ts
// values that are not numbers sort after numbers, then as strings.
func TSLess(a, b string) bool {
	as, af, aok := splitTS(a)
	bs, bf, bok := splitTS(b)
	switch {
	case aok && bok:
		if as != bs {
			return as < bs
		}
		return af < bf
	case aok != bok:
		return aok
	}
	return a < b
}

func splitTS(ts string) (sec, frac int64, ok bool) {
	whole, fr, _ := strings.Cut(ts, ".")
	if whole == "" {
		return 0, 0, false
	}
	for _, c := range whole + fr {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	if len(whole) > 15 || len(fr) > 9 {
		return 0, 0, false
	}
	for _, c := range whole {
		sec = sec*10 + int64(c-'0')
	}
	// Right-pad the fraction to 9 digits so "1.5" and "1.500000" compare equal.
	for i := 0; i < 9; i++ {
		frac *= 10
		if i < len(fr) {
			frac += int64(fr[i] - '0')
		}
	}
	return sec, frac, true
}
