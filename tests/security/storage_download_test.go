package security

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mariahq/maria/bus/bustest"
	"github.com/mariahq/maria/bus/config"
	"github.com/mariahq/maria/processors/storage"
	"github.com/mariahq/maria/schemas"
	"github.com/nats-io/nats.go"
)

const fileToken = "xoxb-storage-download-secret"

var pdfFile = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// hostileFiles plays Slack's url_private behind a hostile network: the first
// request for /reset has its connection cut, the redirect paths point to
// foreign servers; every request is recorded with the token it carried.
type hostileFiles struct {
	mu     sync.Mutex
	hits   map[string]int
	tokens []string // Authorization headers seen by foreign servers
}

func (h *hostileFiles) hit(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits[path]++
	return h.hits[path]
}

func (h *hostileFiles) foreign(t *testing.T, l net.Listener) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.tokens = append(h.tokens, r.Header.Get("Authorization"))
		h.mu.Unlock()
		_, _ = w.Write(pdfFile) // attacker-chosen content
	}))
	if l != nil {
		_ = srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func (h *hostileFiles) foreignRequests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.tokens...)
}

// TestStorageDownloadHostileNetwork: a connection reset while downloading a
// Slack file is retried until it succeeds, not dead-lettered (it used to
// panic on the nil response); a redirect to a host outside the allow-list
// (another port, another loopback address) is refused with a clear
// dead-letter reason, the foreign host never gets a request nor the token,
// and nothing is stored.
func TestStorageDownloadHostileNetwork(t *testing.T) {
	b := bustest.New(t)
	h := &hostileFiles{hits: map[string]int{}}
	otherPort := h.foreign(t, nil)
	var otherIP *httptest.Server
	if l, err := net.Listen("tcp", "127.0.0.2:0"); err == nil {
		otherIP = h.foreign(t, l)
	} else {
		t.Logf("127.0.0.2 unavailable (%v): testing the other-port redirect only", err)
	}
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.hit(r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer "+fileToken {
			http.Error(w, "invalid_auth", http.StatusForbidden)
			return
		}
		switch {
		case r.URL.Path == "/files/reset.pdf" && n == 1:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				_ = conn.Close()
			}
		case r.URL.Path == "/files/port.pdf":
			http.Redirect(w, r, otherPort.URL+"/stolen.pdf", http.StatusFound)
		case r.URL.Path == "/files/ip.pdf" && otherIP != nil:
			http.Redirect(w, r, otherIP.URL+"/stolen.pdf", http.StatusFound)
		default:
			_, _ = w.Write(pdfFile)
		}
	}))
	t.Cleanup(files.Close)

	env := config.NewEnvFrom(map[string]string{
		"SLACK_BOT_TOKEN":       fileToken,
		"SLACK_API_URL":         files.URL + "/api/", // its host:port is the only allowed file host
		"MARIA_STORAGE_TMP_DIR": t.TempDir(),
	})
	cfg := storage.LoadConfig(env)
	if err := env.Err(); err != nil {
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
	t.Cleanup(func() { cancel(); <-done })

	stored := bustest.Subscribe(t, b, "maria.stored.file.>")
	dlq := bustest.Subscribe(t, b, schemas.DLQSubject(schemas.StreamIn, "storage-files"))
	share := func(id, path string) {
		t.Helper()
		f := schemas.SlackFile{ID: id, Name: id + ".pdf", Mimetype: "application/pdf", Size: int64(len(pdfFile)), URLPrivateDownload: files.URL + path}
		e, err := schemas.New("Ev-"+id, schemas.TypeSlackFile, "ingress", schemas.SlackFileShared{EventID: "Ev-" + id, TS: "1700000001.000200", File: f})
		if err != nil {
			t.Fatal(err)
		}
		e.Team, e.Channel, e.User, e.ThreadTS = "T1", "C1", "U1", "1700000000.000100"
		if _, err := b.Publish(context.Background(), schemas.InSubject(schemas.KindFile, "T1", "C1"), e); err != nil {
			t.Fatal(err)
		}
	}
	share("FRESET", "/files/reset.pdf")
	share("FPORT", "/files/port.pdf")
	refusedIDs := []string{"FPORT"}
	if otherIP != nil {
		share("FIP", "/files/ip.pdf")
		refusedIDs = append(refusedIDs, "FIP")
	}

	fileIDs := func(msgs []*nats.Msg) map[string]string {
		out := map[string]string{}
		for _, m := range msgs {
			e, err := schemas.Decode(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if sf, err := schemas.DecodeData[schemas.StoredFile](e); err == nil && sf.FileID != "" {
				out[sf.FileID] = "stored"
				continue
			}
			if ev, err := schemas.DecodeData[schemas.SlackFileShared](e); err == nil {
				out[ev.File.ID] = m.Header.Get(schemas.HeaderDLQReason)
			}
		}
		return out
	}
	bustest.Eventually(t, 30*time.Second, func() bool { return fileIDs(stored())["FRESET"] == "stored" },
		"the file whose first download was reset is stored after a retry")
	var reasons map[string]string
	bustest.Eventually(t, 30*time.Second, func() bool { reasons = fileIDs(dlq()); return len(reasons) >= len(refusedIDs) },
		"redirected files dead-lettered")

	if r, ok := reasons["FRESET"]; ok {
		t.Errorf("the reset download was dead-lettered (%q); a network error must be retried", r)
	}
	h.mu.Lock()
	resets := h.hits["/files/reset.pdf"]
	h.mu.Unlock()
	if n := resets; n < 2 {
		t.Errorf("reset file requested %d time(s), want a retry", n)
	}
	for _, id := range refusedIDs {
		r := reasons[id]
		if !strings.Contains(r, "redirect") || !strings.Contains(r, "refused") || !strings.Contains(r, "MARIA_STORAGE_FILE_HOSTS") {
			t.Errorf("%s dead-letter reason %q, want a refused redirect naming MARIA_STORAGE_FILE_HOSTS", id, r)
		}
		if strings.Contains(r, fileToken) {
			t.Errorf("%s dead-letter reason leaks the token", id)
		}
		if _, found, err := svc.Records().GetFile(context.Background(), "T1", id); err != nil || found {
			t.Errorf("%s: record found=%v err=%v; a refused file must not be stored", id, found, err)
		}
		if _, ok := fileIDs(stored())[id]; ok {
			t.Errorf("%s was announced as stored", id)
		}
	}
	if got := h.foreignRequests(); len(got) != 0 {
		t.Errorf("foreign hosts received %d request(s) (Authorization %q); a redirect there must not be followed", len(got), got)
	}
	keys, err := svc.Blobs().List(context.Background(), cfg.DocsBucket)
	if err != nil || len(keys) != 1 {
		t.Errorf("docs bucket holds %v (err %v), want only the reset-then-retried file", keys, err)
	}
}
