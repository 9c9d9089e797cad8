package storage

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage/store"
	"github.com/mariahq/maria/schemas"
)

func TestDetect(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pe := make([]byte, 0x100)
	copy(pe, "MZ")
	pe[0x3c] = 0x80
	copy(pe[0x80:], "PE\x00\x00")
	zip := []byte("PK\x03\x04\x14\x00\x06\x00")
	for _, tc := range []struct {
		name, file, declared string
		head                 []byte
		wantType             string
		image                bool
		refused              string
	}{
		{"png", "chart.png", "image/png", png, "image/png", true, ""},
		{"png named pdf: content wins", "chart.pdf", "", png, "image/png", true, ""},
		{"pdf", "q.pdf", "application/pdf", []byte("%PDF-1.7\n"), "application/pdf", false, ""},
		{"heic", "IMG_1.HEIC", "image/heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic", true, ""},
		{"tiff", "scan.tif", "", []byte("II*\x00\x08\x00\x00\x00"), "image/tiff", true, ""},
		{"svg is a document", "logo.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "image/svg+xml", false, ""},
		{"docx refines zip", "a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip,
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document", false, ""},
		{"docx by name", "a.docx", "", zip, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", false, ""},
		{"zip claiming text stays zip", "a.txt", "text/plain", zip, "application/zip", false, ""},
		{"csv refines text", "a.csv", "text/csv", []byte("a,b\n1,2\n"), "text/csv; charset=utf-8", false, ""},
		{"xls refines ole", "a.xls", "application/vnd.ms-excel", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"), "application/vnd.ms-excel", false, ""},
		{"text starting with MZ is text", "notes.txt", "text/plain", []byte("MZ notes about the Mazda order\n"), "text/plain; charset=utf-8", false, ""},
		{"elf named png", "cat.png", "image/png", []byte("\x7fELF\x02\x01\x01\x00"), "", false, "ELF executable"},
		{"windows exe named pdf", "invoice.pdf", "application/pdf", pe, "", false, "Windows executable"},
		{"mach-o", "tool", "", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, "", false, "Mach-O"},
		{"image that is text", "chart.png", "image/png", []byte("hello"), "", false, "declared image/png but the content is text/plain"},
		{"pdf that is zip", "q.pdf", "", zip, "", false, "declared application/pdf"},
		{"login page", "q.xlsx", "application/vnd.ms-excel", []byte("<!DOCTYPE html><html><body>Sign in</body></html>"), "", false, "HTML page"},
		{"empty", "e.txt", "", nil, "", false, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Detect(tc.head, tc.file, tc.declared)
			if tc.refused != "" {
				var r *refusal
				if err == nil || !errors.As(err, &r) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("Detect = %+v, %v; want refusal mentioning %q", c, err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.Type != tc.wantType || c.Image != tc.image {
				t.Fatalf("Detect = %+v, want %s image=%v", c, tc.wantType, tc.image)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	env := config.NewEnvFrom(map[string]string{})
	c := LoadConfig(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	if c.Backend != "nats" || c.ImagesBucket != "maria_images" || c.DocsBucket != "maria_docs" || c.MaxFileBytes != 50<<20 ||
		c.Retention != 90*24*time.Hour || c.SSE != "AES256" || len(c.FileHosts) != 1 {
		t.Fatalf("defaults = %+v", c)
	}

	env = config.NewEnvFrom(map[string]string{"MARIA_STORAGE": "aws"})
	LoadConfig(env)
	err := env.Err()
	for _, want := range []string{"MARIA_IMAGES_BUCKET is required", "MARIA_DOCS_BUCKET is required", "MARIA_DYNAMODB_TABLE is required"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("aws without names: %v; want %q", err, want)
		}
	}

	env = config.NewEnvFrom(map[string]string{"MARIA_STORAGE": "s3", "MARIA_S3_SSE": "rot13", "MARIA_STORAGE_RETENTION": "forever",
		"MARIA_STORAGE_MAX_FILE_BYTES": "-1", "MARIA_IMAGES_BUCKET": "bad.name!"})
	LoadConfig(env)
	err = env.Err()
	for _, want := range []string{"MARIA_STORAGE=\"s3\"", "MARIA_S3_SSE", "MARIA_STORAGE_RETENTION", "MARIA_STORAGE_MAX_FILE_BYTES", "MARIA_IMAGES_BUCKET"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad values: %v; want %q", err, want)
		}
	}

	env = config.NewEnvFrom(map[string]string{"MARIA_STORAGE": "aws", "MARIA_IMAGES_BUCKET": "Images_Bucket", "MARIA_DOCS_BUCKET": "docs",
		"MARIA_DYNAMODB_TABLE": "t", "AWS_ACCESS_KEY_ID": "x", "MARIA_S3_KMS_KEY_ID": "k", "AWS_ENDPOINT_URL_S3": "localhost:9000"})
	LoadConfig(env)
	err = env.Err()
	for _, want := range []string{"MARIA_IMAGES_BUCKET=\"Images_Bucket\"", "AWS_SECRET_ACCESS_KEY", "MARIA_S3_KMS_KEY_ID", "AWS_ENDPOINT_URL_S3"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad aws values: %v; want %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "=\"x\"") {
		t.Errorf("error leaks a credential: %v", err)
	}
}

func TestDownloaderAllowed(t *testing.T) {
	d := &downloader{hosts: []string{"files.slack.com", "*.example.com", "127.0.0.1:8080"}}
	for raw, want := range map[string]bool{
		"https://files.slack.com/files-pri/T-F/x.png": true,
		"http://files.slack.com/x":                    false, // token never in clear text to a remote host
		"https://evil.com/x":                          false,
		"https://files.slack.com.evil.com/x":          false,
		"https://a.example.com/x":                     true,
		"https://example.com.evil/x":                  false,
		"http://127.0.0.1:8080/x":                     true,
		"http://127.0.0.1:9090/x":                     false,
		"ftp://files.slack.com/x":                     false,
	} {
		u, _ := url.Parse(raw)
		if got := d.allowed(u); got != want {
			t.Errorf("allowed(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestDownloadErrors(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/403":
			w.WriteHeader(http.StatusForbidden)
		case "/404":
			w.WriteHeader(http.StatusNotFound)
		case "/429":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/reset":
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		case "/redirect":
			_, port, _ := strings.Cut(r.Host, ":")
			http.Redirect(w, r, "http://localhost:"+port+"/ok", http.StatusFound)
		default:
			_, _ = w.Write([]byte("hello"))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	d := newDownloader(Config{BotToken: "xoxb-secret", FileHosts: []string{u.Host}, MaxFileBytes: 100, DownloadTimeout: 5 * time.Second})
	ctx := context.Background()
	fetch := func(path string) error {
		dl, err := d.fetch(ctx, "T1", schemas.SlackFile{ID: "F1", URLPrivate: srv.URL + path}, nil)
		dl.Close()
		return err
	}
	for path, permanent := range map[string]bool{"/403": true, "/404": true, "/503": false} {
		err := fetch(path)
		if err == nil || bus.IsPermanent(err) != permanent {
			t.Errorf("%s: err %v, permanent=%v", path, err, bus.IsPermanent(err))
		}
		if err != nil && strings.Contains(err.Error(), "xoxb-secret") {
			t.Errorf("%s: error leaks the token: %v", path, err)
		}
	}
	if delay, ok := bus.RetryDelay(fetch("/429")); !ok || delay != 7*time.Second {
		t.Errorf("429: retry delay %v %v, want 7s", delay, ok)
	}
	dl, err := d.fetch(ctx, "T1", schemas.SlackFile{ID: "F1", URLPrivate: srv.URL + "/ok"}, nil)
	if err != nil || dl.Size != 5 || string(dl.Head) != "hello" || dl.SHA256 != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("ok: %+v %v", dl, err)
	}
	dl.Close()
	// A redirect to a host not allowed (localhost vs 127.0.0.1) is not
	// followed: the foreign host gets neither the token nor the chance to
	// supply the content.
	gotAuth = nil
	err = fetch("/redirect")
	if !bus.IsPermanent(err) || !strings.Contains(err.Error(), "redirect") || !strings.Contains(err.Error(), "localhost") {
		t.Errorf("redirect to a foreign host: %v, want a permanent refusal naming it", err)
	}
	if len(gotAuth) != 1 || gotAuth[0] != "Bearer xoxb-secret" {
		t.Errorf("authorization per hop = %q, want only the allowed first hop", gotAuth)
	}
	// A connection reset is retried (it used to panic on a nil response).
	err = fetch("/reset")
	if err == nil || bus.IsPermanent(err) {
		t.Errorf("connection reset: %v, want retryable", err)
	}
	// Hosts outside the list never see the token.
	err = (&downloader{hosts: []string{"files.slack.com"}, token: "xoxb-secret", max: 10}).fetchErr(ctx, srv.URL+"/ok")
	if !bus.IsPermanent(err) || !strings.Contains(err.Error(), "refusing to send the bot token") {
		t.Errorf("foreign host: %v", err)
	}
}

func TestCheckRedirect(t *testing.T) {
	d := &downloader{hosts: []string{"files.slack.com", "127.0.0.1:8080"}}
	hop := func(raw string) *http.Request {
		u, _ := url.Parse(raw)
		return &http.Request{URL: u}
	}
	for _, tc := range []struct {
		from, to, refused string
		hops              int
	}{
		{"https://files.slack.com/a", "https://files.slack.com/b", "", 1},
		{"https://files.slack.com/a", "https://evil.example/b", "host not in", 1},
		{"https://files.slack.com/a", "https://files.slack.com.evil.example/b", "host not in", 1},
		{"https://files.slack.com/a", "http://files.slack.com/b", "downgrade", 1},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b", "", 1},
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b", "host not in", 1},
		{"http://127.0.0.1:8080/a", "http://127.0.0.2:8080/b", "host not in", 1},
		{"https://files.slack.com/a", "https://files.slack.com/b", "too many", 5},
	} {
		via := make([]*http.Request, tc.hops)
		for i := range via {
			via[i] = hop(tc.from)
		}
		err := d.checkRedirect(hop(tc.to), via)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s → %s: refused (%v), want followed", tc.from, tc.to, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s → %s: %v, want refused: %s", tc.from, tc.to, err, tc.refused)
		}
	}
}

func (d *downloader) fetchErr(ctx context.Context, raw string) error {
	dl, err := d.fetch(ctx, "T1", schemas.SlackFile{ID: "F", URLPrivate: raw}, nil)
	dl.Close()
	return err
}

func TestFold(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(1700000000+int64(s), 0).UTC() }
	turns := Fold([]store.Entry{
		{TS: "1.1", User: "U1", Role: store.RoleUser, Op: store.OpSet, Text: "q", Time: at(0)},
		{TS: "2.1", Role: store.RoleAssistant, Op: store.OpSet, Text: "Looking", Time: at(1)},
		{TS: "2.1", Role: store.RoleAssistant, Op: store.OpSet, Text: "Answer", Time: at(2)},
		{TS: "3.1", User: "U1", Role: store.RoleUser, Op: store.OpSet, Text: "typo", Time: at(3)},
		{TS: "3.1", User: "U1", Role: store.RoleUser, Op: store.OpDelete, Time: at(4)},
		{TS: "4.1", Role: store.RoleAssistant, Op: store.OpAppend, Text: "a", Time: at(5)},
		{TS: "4.1", Role: store.RoleAssistant, Op: store.OpAppend, Text: "b", Time: at(6)},
	})
	var got []string
	for _, t := range turns {
		got = append(got, t.TS+":"+t.Text)
	}
	if strings.Join(got, " ") != "1.1:q 2.1:Answer 4.1:ab" || !turns[1].Time.Equal(at(1)) {
		t.Fatalf("Fold = %v (%+v)", got, turns)
	}
}

func TestEntries(t *testing.T) {
	env := func(typ string, data any) *schemas.Envelope {
		e, err := schemas.New("E1", typ, "x", data)
		if err != nil {
			t.Fatal(err)
		}
		e.Team, e.Channel, e.User, e.ThreadTS = "T", "C", "U", "9.9"
		return e
	}
	e, ok, err := InboundEntry(env(schemas.TypeSlackCommand, schemas.SlackCommand{Command: "/maria", Text: "stock of desks"}))
	if err != nil || !ok || e.Text != "/maria stock of desks" || e.ThreadTS != "9.9" || !strings.HasPrefix(e.ID, "cmd-") || e.TS == "" {
		t.Errorf("command entry %+v %v %v", e, ok, err)
	}
	if _, ok, _ := InboundEntry(env(schemas.TypeSlackReaction, schemas.SlackReaction{Reaction: "heart"})); ok {
		t.Error("reaction recorded as history")
	}
	if _, _, err := InboundEntry(env(schemas.TypeSlackMessage, schemas.SlackMessage{Text: "no ts"})); !bus.IsPermanent(err) {
		t.Errorf("message without ts: %v", err)
	}
	if _, ok, _ := DeliveredEntry(env(schemas.TypeDelivered, schemas.Delivered{CommandType: schemas.TypeOutReact, TS: "1.1"})); ok {
		t.Error("reaction delivery recorded")
	}
	if _, ok, _ := DeliveredEntry(env(schemas.TypeDelivered, schemas.Delivered{CommandType: schemas.TypeOutEphemeral, TS: "1.1", Text: "psst"})); ok {
		t.Error("ephemeral delivery recorded")
	}
	e, ok, _ = DeliveredEntry(env(schemas.TypeDelivered, schemas.Delivered{CommandID: "c1", CommandType: schemas.TypeOutPost, TS: "1.1", Text: "hi"}))
	if !ok || e.ID != "c1" || e.Role != store.RoleAssistant || e.ThreadTS != "9.9" {
		t.Errorf("post delivery entry %+v", e)
	}
	if _, _, err := DeliveredEntry(&schemas.Envelope{Type: schemas.TypeDelivered, Data: []byte(`"x"`)}); err == nil {
		t.Error("garbage delivery accepted")
	}
}
