package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage"
	"github.com/mariahq/maria/processors/storage/awsstore"
	"github.com/mariahq/maria/processors/storage/awstest"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

const (
	botToken = "xoxb-test-token"
	team     = "T1"
	channel  = "C1"
	thread   = "1700000000.000100"
	maxBytes = 64 << 10
)

// slackFiles serves files like Slack's url_private: bearer token required.
type slackFiles struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func newSlackFiles(t *testing.T) *slackFiles {
	s := &slackFiles{files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		body, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+botToken {
			http.Error(w, "invalid_auth", http.StatusForbidden)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/chunked/") {
			// No Content-Length: the limit must be enforced while streaming.
			w.(http.Flusher).Flush()
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slackFiles) add(path string, body []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = body
	return s.URL + path
}

func (s *slackFiles) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

type harness struct {
	t     *testing.T
	b     *bus.Bus
	svc   *storage.Service
	cfg   storage.Config
	files *slackFiles
}

// start runs the storage service wired exactly as `maria run` does, with
// env on top of the test defaults.
func start(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	b := bustest.New(t)
	files := newSlackFiles(t)
	env := map[string]string{
		"SLACK_BOT_TOKEN":              botToken,
		"SLACK_API_URL":                files.URL + "/api/",
		"MARIA_STORAGE_MAX_FILE_BYTES": fmt.Sprint(maxBytes),
		"MARIA_STORAGE_TMP_DIR":        t.TempDir(),
	}
	for k, v := range extra {
		env[k] = v
	}
	e := config.NewEnvFrom(env)
	cfg := storage.LoadConfig(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	blobs, records, err := storage.Open(ctx, cfg, b)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	svc := storage.New(cfg, b, blobs, records, bustest.Logger(t))
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("service: %v", err)
		}
	})
	// The history service answers once it is registered.
	bustest.Eventually(t, 10*time.Second, func() bool {
		_, err := storage.QueryHistory(context.Background(), b.Conn(), schemas.HistoryQuery{Channel: "C0", ThreadTS: "1"})
		return err == nil
	}, "history service up")
	return &harness{t: t, b: b, svc: svc, cfg: cfg, files: files}
}

func (h *harness) publish(kind, typ, id, threadTS string, data any) {
	h.t.Helper()
	env, err := schemas.New(id, typ, "ingress", data)
	if err != nil {
		h.t.Fatal(err)
	}
	env.Team, env.Channel, env.User, env.ThreadTS = team, channel, "U1", threadTS
	h.publishEnv(schemas.InSubject(kind, team, channel), env)
}

func (h *harness) publishEnv(subject string, env *schemas.Envelope) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.b.Publish(ctx, subject, env); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) shareFile(eventID, path string, f schemas.SlackFile, body []byte) {
	h.t.Helper()
	f.URLPrivateDownload = h.files.add(path, body)
	if f.Size == 0 {
		f.Size = int64(len(body))
	}
	h.publish(schemas.KindFile, schemas.TypeSlackFile, eventID, thread, schemas.SlackFileShared{EventID: eventID, TS: "1700000001.000200", File: f})
}

func stored(t *testing.T, msgs []*nats.Msg) map[string][]schemas.StoredFile {
	out := map[string][]schemas.StoredFile{}
	for _, m := range msgs {
		env, err := schemas.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		sf, err := schemas.DecodeData[schemas.StoredFile](env)
		if err != nil {
			t.Fatal(err)
		}
		out[sf.FileID] = append(out[sf.FileID], *sf)
	}
	return out
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// acceptance is issue 7's acceptance, run on each backend.
func acceptance(t *testing.T, extra map[string]string) {
	h := start(t, extra)
	backend := h.svc.Blobs().Backend()
	storedMsgs := bustest.Subscribe(t, h.b, "maria.stored.file.>")
	dlq := bustest.Subscribe(t, h.b, schemas.DLQSubject(schemas.StreamIn, "storage-files"))
	ctx := context.Background()
	img, pdf := pngBytes(t), pdfBytes

	// A shared image and a PDF land in the right buckets with their metadata.
	h.shareFile("Ev1", "/files/F1/chart.png", schemas.SlackFile{ID: "F1", Name: "chart.png", Mimetype: "image/png"}, img)
	h.shareFile("Ev2", "/files/F2/Quote S00042 é.pdf", schemas.SlackFile{ID: "F2", Name: "Quote S00042 é.pdf", Mimetype: "application/pdf"}, pdf)
	var got map[string][]schemas.StoredFile
	bustest.Eventually(t, 20*time.Second, func() bool { got = stored(t, storedMsgs()); return len(got) == 2 }, "two stored.file events")
	for _, tc := range []struct {
		id, name, bucket, ctype string
		body                    []byte
	}{
		{"F1", "chart.png", h.cfg.ImagesBucket, "image/png", img},
		{"F2", "Quote S00042 é.pdf", h.cfg.DocsBucket, "application/pdf", pdf},
	} {
		sf := got[tc.id][0]
		if sf.Backend != backend || sf.Bucket != tc.bucket || sf.ContentType != tc.ctype || sf.Size != int64(len(tc.body)) ||
			sf.SHA256 != sha(tc.body) || sf.Name != tc.name || sf.Key == "" || sf.TS != "1700000001.000200" {
			t.Errorf("%s: stored.file = %+v", tc.id, sf)
		}
		info, err := h.svc.Blobs().Stat(ctx, sf.Bucket, sf.Key)
		if err != nil {
			t.Fatalf("%s: stat: %v", tc.id, err)
		}
		want := map[string]string{store.MetaTeam: team, store.MetaChannel: channel, store.MetaUser: "U1", store.MetaThreadTS: thread,
			store.MetaTS: "1700000001.000200", store.MetaFileID: tc.id, store.MetaSHA256: sha(tc.body)}
		for k, v := range want {
			if info.Metadata[k] != v {
				t.Errorf("%s: metadata %s = %q, want %q", tc.id, k, info.Metadata[k], v)
			}
		}
		if info.ContentType != tc.ctype {
			t.Errorf("%s: content type %q", tc.id, info.ContentType)
		}
		rc, _, err := h.svc.Blobs().Get(ctx, sf.Bucket, sf.Key)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(body, tc.body) {
			t.Errorf("%s: stored %d bytes differ from the %d shared", tc.id, len(body), len(tc.body))
		}
		rec, found, err := h.svc.Records().GetFile(ctx, team, tc.id)
		if err != nil || !found || rec.Key != sf.Key || rec.SHA256 != sha(tc.body) || rec.ThreadTS != thread {
			t.Errorf("%s: record %+v found=%v err=%v", tc.id, rec, found, err)
		}
	}
	name, _ := h.svc.Blobs().Stat(ctx, h.cfg.DocsBucket, got["F2"][0].Key)
	if name.Metadata[store.MetaName] != "Quote+S00042+%C3%A9.pdf" {
		t.Errorf("name metadata = %q, want the URL-encoded original", name.Metadata[store.MetaName])
	}

	// The same file announced again (Slack retry past the dedup window,
	// file_shared after the message, a re-share) is stored once.
	h.shareFile("Ev1-again", "/files/F1/chart.png", schemas.SlackFile{ID: "F1", Name: "chart.png", Mimetype: "image/png"}, img)
	bustest.Eventually(t, 20*time.Second, func() bool { return len(stored(t, storedMsgs())["F1"]) == 2 }, "F1 announced for the second event")
	if n := h.files.hitCount("/files/F1/chart.png"); n != 1 {
		t.Errorf("F1 downloaded %d times, want 1", n)
	}
	again := stored(t, storedMsgs())["F1"]
	if again[1].Key != again[0].Key || again[1].Bucket != again[0].Bucket {
		t.Errorf("second announcement points elsewhere: %+v vs %+v", again[1], again[0])
	}
	// The same bytes under another file id in the same thread reuse the object.
	h.shareFile("Ev3", "/files/F3/chart-copy.png", schemas.SlackFile{ID: "F3", Name: "chart-copy.png", Mimetype: "image/png"}, img)
	bustest.Eventually(t, 20*time.Second, func() bool { return len(stored(t, storedMsgs())["F3"]) == 1 }, "F3 announced")
	if f3 := stored(t, storedMsgs())["F3"][0]; f3.Key != got["F1"][0].Key {
		t.Errorf("F3 (same bytes, same thread) stored at %s, want F1's object %s", f3.Key, got["F1"][0].Key)
	}
	if rec, _, _ := h.svc.Records().GetFile(ctx, team, "F3"); rec.DuplicateOf != "F1" {
		t.Errorf("F3 record duplicate_of = %q", rec.DuplicateOf)
	}
	for bucket, n := range map[string]int{h.cfg.ImagesBucket: 1, h.cfg.DocsBucket: 1} {
		keys, err := h.svc.Blobs().List(ctx, bucket)
		if err != nil || len(keys) != n {
			t.Errorf("bucket %s holds %v (err %v), want %d object(s)", bucket, keys, err, n)
		}
	}

	// Oversized files are refused with a reason in the DLQ: by the declared
	// size before any download, and by the bytes while streaming.
	big := bytes.Repeat([]byte("a"), maxBytes+1)
	h.shareFile("Ev4", "/files/F4/huge.pdf", schemas.SlackFile{ID: "F4", Name: "huge.pdf", Mimetype: "application/pdf"}, big)
	h.shareFile("Ev5", "/chunked/F5/liar.txt", schemas.SlackFile{ID: "F5", Name: "liar.txt", Size: 10}, big)
	// An executable named like an image is refused too.
	h.shareFile("Ev6", "/files/F6/cat.png", schemas.SlackFile{ID: "F6", Name: "cat.png", Mimetype: "image/png"},
		append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...))
	reasons := map[string]string{}
	bustest.Eventually(t, 20*time.Second, func() bool {
		for _, m := range dlq() {
			env, err := schemas.Decode(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			ev, _ := schemas.DecodeData[schemas.SlackFileShared](env)
			reasons[ev.File.ID] = m.Header.Get(schemas.HeaderDLQReason)
		}
		return len(reasons) == 3
	}, "three dead letters, got %v", reasons)
	for id, want := range map[string]string{"F4": "over the 65536-byte limit", "F5": "exceeds the 65536-byte limit", "F6": "executable"} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("%s dead letter reason %q, want it to mention %q", id, reasons[id], want)
		}
	}
	if n := h.files.hitCount("/files/F4/huge.pdf"); n != 0 {
		t.Errorf("oversized F4 was downloaded %d times; its declared size should refuse it first", n)
	}
	for _, id := range []string{"F4", "F5", "F6"} {
		if _, found, _ := h.svc.Records().GetFile(ctx, team, id); found {
			t.Errorf("refused %s has a record", id)
		}
	}
	if len(stored(t, storedMsgs())) != 3 {
		t.Errorf("refused files were announced: %v", stored(t, storedMsgs()))
	}

	historyRoundTrip(t, h)
}

// historyRoundTrip records a conversation from inbound events and
// deliveries and reads it back through maria.history.query.
func historyRoundTrip(t *testing.T, h *harness) {
	msg := func(id, ts, text string) schemas.SlackMessage {
		return schemas.SlackMessage{EventID: id, TS: ts, ThreadTS: thread, Text: text}
	}
	root := msg("Ev10", thread, "<@UMARIA> status of S00042?")
	root.ThreadTS = ""
	h.publish(schemas.KindMention, schemas.TypeSlackMention, "Ev10", thread, root)
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev10m", thread, root) // Slack sends both for one message
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev11", thread, msg("Ev11", "1700000005.000100", "and the invoice?"))
	edit := msg("Ev12", "1700000009.000100", "and the invoices?")
	edit.Subtype, edit.PreviousTS = "message_changed", "1700000005.000100"
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev12", thread, edit)
	gone := schemas.SlackMessage{EventID: "Ev13", TS: "1700000010.000100", Subtype: "message_deleted", PreviousTS: "1700000007.000100", ThreadTS: thread}
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev14", thread, msg("Ev14", "1700000007.000100", "oops"))
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev13", thread, gone)
	// A join is not conversation.
	join := msg("Ev15", "1700000008.000100", "<@U2> has joined")
	join.Subtype = "channel_join"
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev15", thread, join)
	// Another thread must not leak in.
	h.publish(schemas.KindMessage, schemas.TypeSlackMessage, "Ev16", "1700000099.000100", schemas.SlackMessage{TS: "1700000099.000100", Text: "other thread"})

	parent, _ := schemas.New("Ev10", schemas.TypeSlackMention, "ingress", root)
	parent.Team, parent.Channel, parent.ThreadTS = team, channel, thread
	deliver := func(key, cmdType, ts, text string) {
		env, err := parent.Child(key, schemas.TypeDelivered, "egress", schemas.Delivered{CommandID: "cmd-" + key, CommandType: cmdType, TS: ts, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		h.publishEnv(schemas.DeliveredSubject(team, channel), env)
		time.Sleep(2 * time.Millisecond) // distinct envelope times order the chunks
	}
	deliver("status", schemas.TypeOutStatus, "", "thinking…")
	deliver("post", schemas.TypeOutPost, "1700000002.000100", "Looking…")
	deliver("update", schemas.TypeOutUpdate, "1700000002.000100", "S00042 is confirmed.")
	deliver("s1", schemas.TypeOutStreamStart, "1700000006.000100", "")
	deliver("s2", schemas.TypeOutStreamAppend, "1700000006.000100", "Two invoices ")
	deliver("s3", schemas.TypeOutStreamAppend, "1700000006.000100", "are unpaid")
	deliver("s4", schemas.TypeOutStreamStop, "1700000006.000100", ".")
	deliver("s3", schemas.TypeOutStreamAppend, "1700000006.000100", "are unpaid") // a redelivery

	want := []string{
		"user U1 <@UMARIA> status of S00042?",
		"assistant  S00042 is confirmed.",
		"user U1 and the invoices?",
		"assistant  Two invoices are unpaid.",
	}
	var turns []schemas.HistoryTurn
	var lastErr error
	bustest.Eventually(t, 20*time.Second, func() bool {
		turns, lastErr = storage.QueryHistory(context.Background(), h.b.Conn(), schemas.HistoryQuery{Team: team, Channel: channel, ThreadTS: thread})
		return lastErr == nil && fmt.Sprint(render(turns)) == fmt.Sprint(want)
	}, "history %q (err %v), want %q", func() []string { return render(turns) }(), lastErr, want)
	if turns[0].TS != thread || turns[0].Time.IsZero() {
		t.Errorf("first turn = %+v", turns[0])
	}
	// limit keeps the newest turns.
	last, err := storage.QueryHistory(context.Background(), h.b.Conn(), schemas.HistoryQuery{Team: team, Channel: channel, ThreadTS: thread, Limit: 2})
	if err != nil || len(last) != 2 || last[1].Text != "Two invoices are unpaid." {
		t.Errorf("limit 2 = %+v, %v", last, err)
	}
	// Bad requests get an error reply, not silence.
	reply, err := h.b.Conn().Request(schemas.SubjectHistoryQuery, []byte(`{"channel":"C1"}`), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r schemas.HistoryReply
	if err := json.Unmarshal(reply.Data, &r); err != nil || !strings.Contains(r.Error, "thread_ts") || r.Turns == nil {
		t.Errorf("bad request reply = %s (%v)", reply.Data, err)
	}
	if _, err := storage.QueryHistory(context.Background(), h.b.Conn(), schemas.HistoryQuery{Channel: channel, ThreadTS: thread, Limit: 501}); err == nil {
		t.Error("limit 501 accepted")
	}
}

func render(turns []schemas.HistoryTurn) []string {
	out := make([]string, 0, len(turns))
	for _, t := range turns {
		out = append(out, t.Role+" "+t.User+" "+t.Text)
	}
	return out
}

func TestAcceptanceNATS(t *testing.T) {
	acceptance(t, nil)
}

func TestAcceptanceAWS(t *testing.T) {
	s3srv, ddbsrv := awstest.S3(t), awstest.DynamoDB(t)
	env := awstest.Env(s3srv, ddbsrv)
	env["MARIA_STORAGE"] = "aws"
	env["MARIA_IMAGES_BUCKET"] = "maria-images"
	env["MARIA_DOCS_BUCKET"] = "maria-docs"
	env["MARIA_DYNAMODB_TABLE"] = "maria"
	env["MARIA_S3_PATH_STYLE"] = "true"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc := awsstore.ClientConfig{Region: awstest.Region, S3Endpoint: s3srv.Endpoint, DynamoDBEndpoint: ddbsrv.Endpoint,
		AccessKeyID: awstest.AccessKey, SecretAccessKey: awstest.SecretKey}
	s3c, ddb, err := awsstore.Clients(ctx, cc, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"maria-images", "maria-docs"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := awsstore.CreateTable(ctx, ddb, "maria"); err != nil {
		t.Fatal(err)
	}
	acceptance(t, env)
}

// flakyRecords fails the first CreateFile after the object was put, as a
// crash or a lost connection would: JetStream redelivers the same message.
type flakyRecords struct {
	store.Records
	mu    sync.Mutex
	fails int
}

func (f *flakyRecords) CreateFile(ctx context.Context, r store.FileRecord) (store.FileRecord, bool, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return store.FileRecord{}, false, fmt.Errorf("injected: connection reset")
	}
	return f.Records.CreateFile(ctx, r)
}

func TestRedeliveredEventStoresOnce(t *testing.T) {
	b := bustest.New(t)
	files := newSlackFiles(t)
	e := config.NewEnvFrom(map[string]string{"SLACK_BOT_TOKEN": botToken, "SLACK_API_URL": files.URL})
	cfg := storage.LoadConfig(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	blobs, records, err := storage.Open(ctx, cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyRecords{Records: records, fails: 1}
	svc := storage.New(cfg, b, blobs, flaky, bustest.Logger(t))
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx, b, svc.FilesProcessor()) }()
	defer func() { cancel(); <-done }()
	storedMsgs := bustest.Subscribe(t, b, "maria.stored.file.>")

	h := &harness{t: t, b: b, svc: svc, cfg: cfg, files: files}
	h.shareFile("Ev1", "/files/F1/a.pdf", schemas.SlackFile{ID: "F1", Name: "a.pdf"}, pdfBytes)
	bustest.Eventually(t, 20*time.Second, func() bool { return len(storedMsgs()) == 1 }, "stored after the redelivery")
	if n := files.hitCount("/files/F1/a.pdf"); n != 2 {
		t.Errorf("downloads = %d, want 2 (first delivery failed after the put)", n)
	}
	keys, err := blobs.List(ctx, cfg.DocsBucket)
	if err != nil || len(keys) != 1 {
		t.Errorf("docs bucket = %v (%v), want one object", keys, err)
	}
	if rec, found, _ := records.GetFile(ctx, team, "F1"); !found || rec.Key != keys[0] {
		t.Errorf("record = %+v found=%v", rec, found)
	}
	// A third delivery of the same event changes nothing and announces the
	// same id again, which the stream drops as a duplicate.
	env, _ := schemas.New("Ev1", schemas.TypeSlackFile, "ingress", schemas.SlackFileShared{TS: "1700000001.000200",
		File: schemas.SlackFile{ID: "F1", Name: "a.pdf", URLPrivate: files.URL + "/files/F1/a.pdf"}})
	env.Team, env.Channel, env.User, env.ThreadTS = team, channel, "U1", thread
	env.ID = "Ev1-redelivered"
	h.publishEnv(schemas.InSubject(schemas.KindFile, team, channel), env)
	bustest.Eventually(t, 20*time.Second, func() bool { return len(storedMsgs()) == 2 }, "second announcement")
	if n := files.hitCount("/files/F1/a.pdf"); n != 2 {
		t.Errorf("downloads = %d after a re-announcement, want still 2", n)
	}
}
