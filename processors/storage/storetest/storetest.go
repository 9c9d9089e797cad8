// Package storetest is the conformance suite every storage backend passes:
// the same expectations on objects, file records, the content index, claims
// and thread history, whichever backend keeps them.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mariahq/maria/processors/storage/store"
)

// Run exercises blobs and records; bucket is a configured bucket that
// starts empty.
func Run(t *testing.T, blobs store.Blobs, records store.Records, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("objects", func(t *testing.T) {
		body := bytes.Repeat([]byte("maria-"), 50_000) // > one Object Store chunk
		sum := sha256.Sum256(body)
		meta := map[string]string{store.MetaTeam: "T1", store.MetaFileID: "F1", store.MetaName: "r%C3%A9sum%C3%A9.pdf", store.MetaSHA256: hex.EncodeToString(sum[:])}
		key := store.ObjectKey("T1", "C1", "F1", "résumé.pdf")
		if err := blobs.Put(ctx, store.PutObject{Bucket: bucket, Key: key, ContentType: "application/pdf", Size: int64(len(body)),
			SHA256: hex.EncodeToString(sum[:]), Metadata: meta, Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put: %v", err)
		}
		info, err := blobs.Stat(ctx, bucket, key)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if info.ContentType != "application/pdf" || info.Size != int64(len(body)) {
			t.Fatalf("stat = %+v", info)
		}
		for k, v := range meta {
			if info.Metadata[k] != v {
				t.Errorf("metadata %s = %q, want %q (all: %v)", k, info.Metadata[k], v, info.Metadata)
			}
		}
		rc, _, err := blobs.Get(ctx, bucket, key)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("get returned %d bytes (err %v), want %d identical bytes", len(got), err, len(body))
		}
		keys, err := blobs.List(ctx, bucket)
		if err != nil || len(keys) != 1 || keys[0] != key {
			t.Fatalf("list = %v, %v", keys, err)
		}
		if _, err := blobs.Stat(ctx, bucket, "missing/key"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("stat missing: %v, want ErrNotFound", err)
		}
		// A wrong sha256 must not be stored silently.
		bad := store.PutObject{Bucket: bucket, Key: "T1/C1/F2/x", ContentType: "text/plain", Size: 3,
			SHA256: hex.EncodeToString(make([]byte, 32)), Body: bytes.NewReader([]byte("abc"))}
		if err := blobs.Put(ctx, bad); err == nil {
			t.Fatal("put with a wrong sha256 succeeded")
		}
		if err := blobs.Check(ctx); err != nil {
			t.Fatalf("check: %v", err)
		}
	})

	t.Run("file records", func(t *testing.T) {
		r := store.FileRecord{FileID: "F#1", Name: "a.png", Team: "T1", Channel: "C1", ThreadTS: "1700000000.000100",
			User: "U1", TS: "1700000001.000200", Backend: blobs.Backend(), Bucket: bucket, Key: "k", ContentType: "image/png",
			Size: 42, SHA256: "ab", StoredAt: time.Now().UTC().Truncate(time.Millisecond)}
		if _, found, err := records.GetFile(ctx, r.Team, r.FileID); err != nil || found {
			t.Fatalf("get before create: found=%v err=%v", found, err)
		}
		if _, created, err := records.CreateFile(ctx, r); err != nil || !created {
			t.Fatalf("create: created=%v err=%v", created, err)
		}
		other := r
		other.Key = "other"
		existing, created, err := records.CreateFile(ctx, other)
		if err != nil || created || existing.Key != "k" {
			t.Fatalf("second create: created=%v existing=%+v err=%v", created, existing, err)
		}
		got, found, err := records.GetFile(ctx, r.Team, r.FileID)
		if err != nil || !found || !got.StoredAt.Equal(r.StoredAt) || got.Size != 42 || got.ThreadTS != r.ThreadTS {
			t.Fatalf("get: %+v found=%v err=%v", got, found, err)
		}
		// Slack Connect: the same file id shared in another workspace is
		// that workspace's own record, invisible to the first.
		if _, found, err := records.GetFile(ctx, "T2", r.FileID); err != nil || found {
			t.Fatalf("another workspace sees T1's record: found=%v err=%v", found, err)
		}
		theirs := r
		theirs.Team, theirs.Key = "T2", "k2"
		if _, created, err := records.CreateFile(ctx, theirs); err != nil || !created {
			t.Fatalf("create in another workspace: created=%v err=%v", created, err)
		}
		for team, key := range map[string]string{"T1": "k", "T2": "k2"} {
			if got, found, err := records.GetFile(ctx, team, r.FileID); err != nil || !found || got.Key != key || got.Team != team {
				t.Fatalf("%s's record: %+v found=%v err=%v", team, got, found, err)
			}
		}

		if _, found, _ := records.GetContent(ctx, "T1", "C1", r.ThreadTS, "ab"); found {
			t.Fatal("content indexed before CreateContent")
		}
		if _, created, err := records.CreateContent(ctx, r); err != nil || !created {
			t.Fatalf("create content: %v %v", created, err)
		}
		dup := r
		dup.FileID = "F2"
		existing, created, err = records.CreateContent(ctx, dup)
		if err != nil || created || existing.FileID != "F#1" {
			t.Fatalf("second content create: created=%v existing=%+v err=%v", created, existing, err)
		}
		if _, found, _ := records.GetContent(ctx, "T1", "C1", "1700000000.000999", "ab"); found {
			t.Fatal("content index leaks across threads")
		}
	})

	t.Run("claims", func(t *testing.T) {
		if err := records.Claim(ctx, "file:F9", time.Minute); err != nil {
			t.Fatalf("claim: %v", err)
		}
		if err := records.Claim(ctx, "file:F9", time.Minute); !errors.Is(err, store.ErrInFlight) {
			t.Fatalf("second claim: %v, want ErrInFlight", err)
		}
		// A claim older than stale is taken over.
		time.Sleep(5 * time.Millisecond)
		if err := records.Claim(ctx, "file:F9", time.Millisecond); err != nil {
			t.Fatalf("take over stale claim: %v", err)
		}
		if err := records.Release(ctx, "file:F9"); err != nil {
			t.Fatalf("release: %v", err)
		}
		if err := records.Claim(ctx, "file:F9", time.Minute); err != nil {
			t.Fatalf("claim after release: %v", err)
		}
	})

	t.Run("history", func(t *testing.T) {
		thread := "1700000000.000100"
		base := time.Now().UTC().Truncate(time.Millisecond)
		put := func(ts, id, role, op, text string, dt time.Duration) {
			t.Helper()
			e := store.Entry{Team: "T1", Channel: "C1", ThreadTS: thread, TS: ts, ID: id, User: "U1", Role: role, Op: op, Text: text, Time: base.Add(dt)}
			if err := records.PutEntry(ctx, e); err != nil {
				t.Fatalf("put entry: %v", err)
			}
		}
		put("1700000000.000100", "U1", store.RoleUser, store.OpSet, "first", 0)
		put("1700000002.000100", "c2", store.RoleAssistant, store.OpSet, "answer", 2*time.Second)
		put("1700000001.000100", "U1", store.RoleUser, store.OpSet, "second", time.Second)
		put("1700000001.000100", "U1", store.RoleUser, store.OpSet, "second", time.Second) // recorded twice: stored once
		// Another thread of the same channel must not show up.
		if err := records.PutEntry(ctx, store.Entry{Team: "T1", Channel: "C1", ThreadTS: "1700000000.000101", TS: "1700000000.000101", ID: "U1", Role: store.RoleUser, Op: store.OpSet, Text: "elsewhere", Time: base}); err != nil {
			t.Fatal(err)
		}
		es, err := records.Entries(ctx, "T1", "C1", thread, 0)
		if err != nil {
			t.Fatalf("entries: %v", err)
		}
		var texts []string
		for _, e := range es {
			texts = append(texts, e.Text)
		}
		if fmt.Sprint(texts) != "[first second answer]" {
			t.Fatalf("entries = %v", texts)
		}
		if !es[0].Time.Equal(base) || es[2].Role != store.RoleAssistant {
			t.Fatalf("entry fields lost: %+v", es)
		}
		es, err = records.Entries(ctx, "T1", "C1", thread, 2)
		if err != nil || len(es) != 2 || es[0].Text != "second" {
			t.Fatalf("entries(max 2) = %+v, %v", es, err)
		}
		if es, err := records.Entries(ctx, "T1", "C1", "1600000000.000000", 0); err != nil || len(es) != 0 {
			t.Fatalf("empty thread = %+v, %v", es, err)
		}
		if err := records.Check(ctx); err != nil {
			t.Fatalf("check: %v", err)
		}
	})
}

// LegacyFiles checks that file records stored before records were keyed
// by workspace (under the file id alone; putLegacy writes one as the
// backend did) are still found — by their own workspace only.
func LegacyFiles(t *testing.T, records store.Records, putLegacy func(context.Context, store.FileRecord) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old := store.FileRecord{FileID: "FOLD1", Name: "old.pdf", Team: "T1", Channel: "C1", Backend: "x", Bucket: "b", Key: "T1/C1/FOLD1/old.pdf",
		ContentType: "application/pdf", Size: 7, StoredAt: time.Now().UTC().Truncate(time.Millisecond)}
	noTeam := old
	noTeam.FileID, noTeam.Team, noTeam.Key = "FOLD2", "", "old/FOLD2"
	for _, r := range []store.FileRecord{old, noTeam} {
		if err := putLegacy(ctx, r); err != nil {
			t.Fatalf("legacy record %s: %v", r.FileID, err)
		}
	}
	tests := []struct {
		team, id string
		found    bool
	}{
		{"T1", "FOLD1", true},
		{"T2", "FOLD1", false}, // another workspace's old record stays hidden
		{"", "FOLD1", false},
		{"T1", "FOLD2", true}, // no team recorded: readable as before
		{"", "FOLD2", true},
	}
	for _, tc := range tests {
		got, found, err := records.GetFile(ctx, tc.team, tc.id)
		if err != nil || found != tc.found || found && got.Size != 7 {
			t.Errorf("GetFile(%q, %q) = %+v found=%v err=%v, want found=%v", tc.team, tc.id, got, found, err, tc.found)
		}
	}
	// A newer record of the same file in its workspace wins over the old one.
	newer := old
	newer.Key = "new"
	if _, created, err := records.CreateFile(ctx, newer); err != nil || !created {
		t.Fatalf("create over a legacy record: created=%v err=%v", created, err)
	}
	if got, _, err := records.GetFile(ctx, "T1", "FOLD1"); err != nil || got.Key != "new" {
		t.Fatalf("record after the new create: %+v err=%v", got, err)
	}
}
