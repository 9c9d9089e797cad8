package storage

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/mariahq/maria/bus"
	"github.com/mariahq/maria/schemas"
	"github.com/mariahq/maria/tests/sim/slacksim"
)

// A file_shared event carries only the file id: the downloader asks
// files.info for the URLs (and the size, to refuse before downloading).
func TestFetchLooksUpFileSharedByID(t *testing.T) {
	const token = "xoxb-sim-token"
	sim := slacksim.New(token)
	defer sim.Close()
	f := sim.AddFile("report.pdf", "application/pdf", []byte("%PDF-1.7 small"))
	u, _ := url.Parse(sim.URL())
	d := newDownloader(Config{BotToken: token, SlackAPIURL: sim.URL(), FileHosts: []string{u.Host}, MaxFileBytes: 1 << 20, DownloadTimeout: 5 * time.Second})
	ctx := context.Background()

	dl, err := d.fetch(ctx, "T1", schemas.SlackFile{ID: f.ID}, nil)
	if err != nil {
		t.Fatalf("fetch by id: %v", err)
	}
	if dl.Size != int64(len("%PDF-1.7 small")) {
		t.Fatalf("size %d", dl.Size)
	}
	dl.Close()

	if _, err := d.fetch(ctx, "T1", schemas.SlackFile{ID: "F-missing"}, nil); !bus.IsPermanent(err) {
		t.Fatalf("unknown file: %v, want a permanent refusal", err)
	}
	small := newDownloader(Config{BotToken: token, SlackAPIURL: sim.URL(), FileHosts: []string{u.Host}, MaxFileBytes: 4, DownloadTimeout: 5 * time.Second})
	if _, err := small.fetch(ctx, "T1", schemas.SlackFile{ID: f.ID}, nil); !bus.IsPermanent(err) {
		t.Fatalf("oversized by files.info: %v, want a permanent refusal", err)
	}
}
