package backup

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/nats-io/nats.go/jetstream"
)

func TestKindOf(t *testing.T) {
	for stream, want := range map[string]string{
		"MARIA_IN": KindStream, "KV_maria_threads": KindKV, "OBJ_maria_files": KindObject, "KVX": KindStream,
	} {
		if got := KindOf(stream); got != want {
			t.Errorf("KindOf(%s) = %s, want %s", stream, got, want)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"MARIA_IN": true, "KV_a-b": true, "": false, "..": false, "../etc": false, "a/b": false, "a.b": false, "a*": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}

// seed fills a server with a stream with a consumer half-way through it,
// a KV bucket and an object store, and returns the stored object.
func seed(ctx context.Context, t *testing.T, js jetstream.JetStream) []byte {
	t.Helper()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "MARIA_T", Subjects: []string{"t.>"}}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := js.Publish(ctx, "t.x", []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "MARIA_T", jetstream.ConsumerConfig{Durable: "worker", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(2)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		_ = m.DoubleAck(ctx)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "mem"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "thread.1", []byte("remember me")); err != nil {
		t.Fatal(err)
	}
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "files"})
	if err != nil {
		t.Fatal(err)
	}
	blob := bytes.Repeat([]byte("0123456789"), 50_000) // several chunks
	if _, err := obs.PutBytes(ctx, "label.png", blob); err != nil {
		t.Fatal(err)
	}
	return blob
}

// checkRestored finds what seed stored, the consumer where it was.
func checkRestored(ctx context.Context, t *testing.T, js jetstream.JetStream, blob []byte) {
	t.Helper()
	kv, err := js.KeyValue(ctx, "mem")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := kv.Get(ctx, "thread.1"); err != nil || string(e.Value()) != "remember me" {
		t.Fatalf("kv after restore: %v %v", e, err)
	}
	obs, err := js.ObjectStore(ctx, "files")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obs.GetBytes(ctx, "label.png"); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("object after restore: %d bytes, %v", len(got), err)
	}
	cons, err := js.Consumer(ctx, "MARIA_T", "worker")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 3 || info.AckFloor.Stream != 2 {
		t.Fatalf("restored consumer: pending %d, ack floor %d; want 3 and 2", info.NumPending, info.AckFloor.Stream)
	}
	next, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil || string(next.Data()) != "c" {
		t.Fatalf("next message after restore: %v %v", next, err)
	}
}

// A backup of a stream, a KV bucket and an object store, restored into a
// second server: messages, keys, objects and a consumer's position are back;
// restoring again without --replace is refused, with it succeeds.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := bustest.New(t)
	blob := seed(ctx, t, src.JetStream())

	dir := t.TempDir()
	var out bytes.Buffer
	m, err := Backup(ctx, src.Conn(), Options{Dir: dir, Progress: &out})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, e := range m.Streams {
		kinds[e.Name] = e.Kind
	}
	if kinds["MARIA_T"] != KindStream || kinds["KV_mem"] != KindKV || kinds["OBJ_files"] != KindObject || !strings.Contains(out.String(), "Backup complete") {
		t.Fatalf("manifest %+v\n%s", m, out.String())
	}
	if _, err := Backup(ctx, src.Conn(), Options{Dir: dir}); err == nil {
		t.Fatal("a second backup into the same directory was accepted")
	}

	dst := bustest.New(t)
	// bustest declares Maria's streams: an empty server for this test.
	for _, e := range m.Streams {
		_ = dst.JetStream().DeleteStream(ctx, e.Name)
	}
	if _, err := Restore(ctx, dst.Conn(), RestoreOptions{Options: Options{Dir: dir, Progress: &out}}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	checkRestored(ctx, t, dst.JetStream(), blob)

	_, err = Restore(ctx, dst.Conn(), RestoreOptions{Options: Options{Dir: dir}})
	if err == nil || !strings.Contains(err.Error(), "KV_mem") || !strings.Contains(err.Error(), "MARIA_T") {
		t.Fatalf("restore over existing streams: %v, want every conflict named", err)
	}
	if _, err := Restore(ctx, dst.Conn(), RestoreOptions{Options: Options{Dir: dir}, Replace: true, Replicas: 1}); err != nil {
		t.Fatalf("--replace: %v", err)
	}
}

func TestRestoreRefusesUnfinishedBackup(t *testing.T) {
	b := bustest.New(t)
	_, err := Restore(context.Background(), b.Conn(), RestoreOptions{Options: Options{Dir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), ManifestFile) {
		t.Fatalf("restore of a directory without a manifest: %v", err)
	}
}
