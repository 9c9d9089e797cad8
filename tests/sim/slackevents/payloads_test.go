package slackevents

import (
	"net/http"
	"testing"

	"github.com/mariahq/maria/tests/sim/slacksim"
)

// url_private_download is formed as Slack forms it, so a consumer that
// prefers it (storage does) downloads from where Slack — and the Slack
// simulator — serve the file.
func TestFileDownloadURLAsSlackFormsIt(t *testing.T) {
	ev := MessageWithFilesEvent("T1", "C1", "channel", "U1", "", NewTS(), "",
		File{ID: "F0ABC1111", Name: "invoice.pdf", URLPrivate: "https://files.slack.com/files-pri/T1-F0ABC1111/invoice.pdf"})
	files := ev["files"].([]map[string]any)
	if got, want := files[0]["url_private_download"], "https://files.slack.com/files-pri/T1-F0ABC1111/download/invoice.pdf"; got != want {
		t.Fatalf("url_private_download = %v, want %v", got, want)
	}

	sim := slacksim.New("xoxb-test")
	defer sim.Close()
	f := sim.AddFile("photo.png", "image/png", []byte("\x89PNG\r\n\x1a\n"))
	ev = MessageWithFilesEvent("T1", "C1", "channel", "U1", "", NewTS(), "", File{ID: f.ID, Name: f.Name, URLPrivate: f.URLPrivate})
	url := ev["files"].([]map[string]any)[0]["url_private_download"].(string)
	if url != f.URLPrivateDownload {
		t.Fatalf("url_private_download = %s, the simulator serves %s", url, f.URLPrivateDownload)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer xoxb-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %s", resp.Status)
	}
}
